package archive

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe"
)

// Line is a stored record with its id, which grows in the order lines were
// stored and is never reused: a permalink, and a follower's cursor.
type Line struct {
	ID int64
	drainpipe.Record
	// Fields are the fields read out of the message (its logfmt pairs), under
	// the names they are stored with ("status", "msg.dyno").
	Fields []drainpipe.Attr
	// Part is "k/n" for the k-th of n rows a long message was stored in, else "".
	Part string
}

// LinesOf turns a block of result rows (with every field of the rows, as
// Query gives them) into Lines.
func LinesOf(cols []logstorage.BlockColumn) ([]Line, error) {
	if len(cols) == 0 {
		return nil, nil
	}
	n := len(cols[0].Values)
	lines := make([]Line, n)
	for i := range lines {
		lines[i] = Line{Record: drainpipe.Record{Priority: -1}}
	}
	attrCols := map[string]int{}
	for c := range cols {
		attrCols[cols[c].Name] = c
	}
	for c := range cols {
		if err := setColumn(lines, &cols[c]); err != nil {
			return nil, err
		}
	}
	for i := range lines {
		if err := finishLine(&lines[i], cols, i, attrCols); err != nil {
			return nil, err
		}
	}
	return lines, nil
}

// setColumn copies one column's values into the lines.
func setColumn(lines []Line, c *logstorage.BlockColumn) error {
	for i, v := range c.Values {
		l := &lines[i]
		var err error
		switch c.Name {
		case FieldMessage:
			l.Message = v
		case FieldTime:
			l.Time, err = parseTime(v)
		case FieldID:
			l.ID, err = strconv.ParseInt(v, 10, 64)
		case FieldReceived:
			if v != "" {
				var n int64
				n, err = strconv.ParseInt(v, 10, 64)
				l.Received = time.Unix(0, n).UTC()
			}
		case FieldPriority:
			if v != "" {
				l.Priority, err = strconv.Atoi(v)
			}
		case FieldApp:
			l.App = v
		case FieldSource:
			l.Source = v
		case FieldDrain:
			l.Drain = v
		case FieldHost:
			l.Host = v
		case FieldDyno:
			l.Dyno = v
		case FieldMsgID:
			l.MsgID = v
		case FieldStructuredData:
			l.StructuredData = v
		case FieldMalformed:
			l.Malformed = v == "1"
		case FieldPart:
			l.Part = v
		}
		if err != nil {
			return fmt.Errorf("stored line: field %s: %w", c.Name, err)
		}
	}
	return nil
}

// finishLine sorts the row's other fields into the record's attributes (the
// keys listed in "attrs") and the fields read out of its message.
func finishLine(l *Line, cols []logstorage.BlockColumn, i int, byName map[string]int) error {
	if c, ok := byName[FieldLineTime]; ok && cols[c].Values[i] != "" {
		t, err := parseLineTime(cols[c].Values[i])
		if err != nil {
			return fmt.Errorf("stored line: field time: %w", err)
		}
		l.Time = t
	}
	var used nameSet
	if c, ok := byName[FieldAttrs]; ok && cols[c].Values[i] != "" {
		var keys []string
		if err := json.Unmarshal([]byte(cols[c].Values[i]), &keys); err != nil {
			return fmt.Errorf("stored line: field attrs: %w", err)
		}
		for _, k := range keys {
			name, _ := storedAttrName(k, used)
			used = append(used, name)
			v := ""
			if c, ok := byName[name]; ok {
				v = cols[c].Values[i]
			}
			l.Attrs = append(l.Attrs, drainpipe.Attr{Key: k, Value: v})
		}
	}
	if c, ok := byName[FieldAttrsRest]; ok && cols[c].Values[i] != "" {
		var pairs [][2]string
		if err := json.Unmarshal([]byte(cols[c].Values[i]), &pairs); err != nil {
			return fmt.Errorf("stored line: field %s: %w", FieldAttrsRest, err)
		}
		for _, p := range pairs {
			l.Attrs = append(l.Attrs, drainpipe.Attr{Key: p[0], Value: p[1]})
		}
	}
	for c := range cols {
		name, v := cols[c].Name, cols[c].Values[i]
		if v == "" || reserved[name] || used.has(name) || name == "_stream" || name == "_stream_id" {
			continue
		}
		l.Fields = append(l.Fields, drainpipe.Attr{Key: name, Value: v})
	}
	slices.SortFunc(l.Fields, func(a, b drainpipe.Attr) int { return strings.Compare(a.Key, b.Key) })
	return nil
}

// encodeKeys is the "attrs" field: the attribute keys as a JSON array.
func encodeKeys(keys []string) string {
	b, _ := json.Marshal(keys) // strings always marshal
	return string(b)
}

// parseTime reads _time as the storage formats it.
func parseTime(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	return t.UTC(), err
}

// parseLineTime reads the "time" field (see lineTime).
func parseLineTime(v string) (time.Time, error) {
	if v == "none" {
		return time.Time{}, nil
	}
	return parseTime(v)
}
