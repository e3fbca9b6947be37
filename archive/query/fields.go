package query

import (
	"strconv"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/archive"
)

// The archive's field names that make up a line (see package archive).
const (
	FieldTime           = archive.FieldTime
	FieldMessage        = archive.FieldMessage
	FieldID             = archive.FieldID
	FieldApp            = archive.FieldApp
	FieldDrain          = archive.FieldDrain
	FieldSource         = archive.FieldSource
	FieldDyno           = archive.FieldDyno
	FieldHost           = archive.FieldHost
	FieldPriority       = archive.FieldPriority
	FieldMsgID          = archive.FieldMsgID
	FieldStructuredData = archive.FieldStructuredData
	FieldMalformed      = archive.FieldMalformed
	FieldReceived       = archive.FieldReceived
	// FieldLineTime holds a line's own time when it is not _time (a time the
	// storage could not take): RFC 3339, or "none" for a line without one.
	FieldLineTime = archive.FieldLineTime
	// FieldPart is "k/n" on the k-th of the n rows a long message is stored in.
	FieldPart = archive.FieldPart
)

// lineFields are the fields a line is made of: what a window asks the engine for.
var lineFields = []string{
	FieldTime, FieldID, FieldMessage, FieldApp, FieldDrain, FieldSource, FieldDyno, FieldHost,
	FieldPriority, FieldMsgID, FieldStructuredData, FieldMalformed, FieldReceived, FieldLineTime, FieldPart,
}

// columns holds the index in a block of each line field's column, -1 when the
// block has none.
type columns struct {
	cols                                        []logstorage.BlockColumn
	time, id, msg, app, drain, source, dyno     int
	host, priority, msgid, sd, malformed, recvd int
	lineTime, part                              int
}

// index finds the line fields' columns in cols.
func index(cols []logstorage.BlockColumn) columns {
	c := columns{cols: cols, time: -1, id: -1, msg: -1, app: -1, drain: -1, source: -1, dyno: -1,
		host: -1, priority: -1, msgid: -1, sd: -1, malformed: -1, recvd: -1, lineTime: -1, part: -1}
	for i := range cols {
		switch cols[i].Name {
		case FieldTime:
			c.time = i
		case FieldID:
			c.id = i
		case FieldMessage:
			c.msg = i
		case FieldApp:
			c.app = i
		case FieldDrain:
			c.drain = i
		case FieldSource:
			c.source = i
		case FieldDyno:
			c.dyno = i
		case FieldHost:
			c.host = i
		case FieldPriority:
			c.priority = i
		case FieldMsgID:
			c.msgid = i
		case FieldStructuredData:
			c.sd = i
		case FieldMalformed:
			c.malformed = i
		case FieldReceived:
			c.recvd = i
		case FieldLineTime:
			c.lineTime = i
		case FieldPart:
			c.part = i
		}
	}
	return c
}

// value is column i's value in row, "" when the block has no such column.
func (c *columns) value(i, row int) string {
	if i < 0 {
		return ""
	}
	return c.cols[i].Values[row]
}

// position is row's place in time order. A row without a time that parses (none
// should exist) sorts first.
func (c *columns) position(row int) Position {
	var p Position
	if ts, ok := logstorage.TryParseTimestampRFC3339Nano(c.value(c.time, row)); ok {
		p.Time = ts
	} else {
		p.Time = minNanos
	}
	p.ID, _ = strconv.ParseInt(c.value(c.id, row), 10, 64)
	return p
}

// line fills l with row, its strings pointing into the block's values (valid only
// while the block is).
func (c *columns) line(l *api.Line, row int, p Position) {
	*l = api.Line{
		ID:             p.ID,
		Time:           time.Unix(0, p.Time).UTC(),
		Drain:          c.value(c.drain, row),
		App:            c.value(c.app, row),
		Source:         c.value(c.source, row),
		Dyno:           c.value(c.dyno, row),
		Host:           c.value(c.host, row),
		Priority:       -1,
		MsgID:          c.value(c.msgid, row),
		StructuredData: c.value(c.sd, row),
		Message:        c.value(c.msg, row),
		Malformed:      c.value(c.malformed, row) == "1" || c.value(c.malformed, row) == "true",
		Received:       parseReceived(c.value(c.recvd, row)),
		Part:           c.value(c.part, row),
	}
	switch v := c.value(c.lineTime, row); v {
	case "":
	case "none":
		l.Time = time.Time{}
	default:
		if ts, ok := logstorage.TryParseTimestampRFC3339Nano(v); ok {
			l.Time = time.Unix(0, ts).UTC()
		}
	}
	if v := c.value(c.priority, row); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			l.Priority = n
		}
	}
}

// parseReceived reads the received time: Unix nanoseconds or RFC 3339.
func parseReceived(v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(0, n).UTC()
	}
	if ts, ok := logstorage.TryParseTimestampRFC3339Nano(v); ok {
		return time.Unix(0, ts).UTC()
	}
	return time.Time{}
}
