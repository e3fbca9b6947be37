package cloudwatch

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/drainpipe/drainpipe"
)

// maxEventBytes is the longest message one event may carry. CloudWatch allows 1 MB
// per event; whether its 26 bytes of overhead count is unconfirmed, so they do here.
const maxEventBytes = maxBatchBytes - eventOverhead

// formatter turns a record into the messages of its events: one, or several
// consecutive ones when the line is longer than max bytes. None is empty.
type formatter func(r *drainpipe.Record, max int) []string

// eventTime is the timestamp a record's events carry: the line's own, else (none,
// or one no record can carry) the time it was received.
func eventTime(r *drainpipe.Record) time.Time {
	switch {
	case drainpipe.KnownTime(r.Time):
		return r.Time
	case !r.Received.IsZero():
		return r.Received
	}
	return time.Now()
}

// formatText writes a record as `heroku logs` does, without the timestamp the
// event already carries: "app[web.1]: message".
func formatText(r *drainpipe.Record, max int) []string {
	msg := strings.ToValidUTF8(r.Message, "\uFFFD")
	prefix := textPrefix(r)
	if len(prefix) > max/2 {
		prefix = "" // a header this long is garbage; keep the message whole
	}
	if len(prefix)+len(msg) <= max {
		if prefix == "" && msg == "" {
			return []string{"-"} // CloudWatch refuses empty events
		}
		return []string{prefix + msg}
	}
	pieces := splitUTF8(msg, max-len(prefix))
	for i := range pieces {
		pieces[i] = prefix + pieces[i]
	}
	return pieces
}

func textPrefix(r *drainpipe.Record) string {
	source := strings.ToValidUTF8(r.Source, "\uFFFD")
	dyno := strings.ToValidUTF8(r.Dyno, "\uFFFD")
	switch {
	case dyno != "":
		return source + "[" + dyno + "]: "
	case source != "":
		return source + ": "
	}
	return ""
}

// splitUTF8 cuts s into pieces of at most n bytes (n ≥ utf8.UTFMax), on character
// boundaries, in order; joined they give s back.
func splitUTF8(s string, n int) []string {
	var pieces []string
	for len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		pieces = append(pieces, s[:cut])
		s = s[cut:]
	}
	return append(pieces, s)
}

// formatJSON writes a record as one JSON object for Logs Insights. A line too long
// for one event is split over several objects marked with part and parts; those
// carry the message only, without the parsed fields, and with the sender's
// attributes (OpenTelemetry's) unless they would take half the event.
func formatJSON(r *drainpipe.Record, max int) []string {
	msg := strings.ToValidUTF8(r.Message, "\uFFFD")
	if obj := appendJSONRecord(nil, r, msg, fields(msg), r.Attrs, 0, 0); len(obj) <= max {
		return []string{string(obj)}
	}
	attrs := r.Attrs
	room := max - len(appendJSONRecord(nil, r, "", nil, attrs, 1<<30, 1<<30))
	if room < max/2 { // header fields this long are garbage; keep the message whole
		short := *r
		short.App, short.Drain = truncateUTF8(r.App, 64), truncateUTF8(r.Drain, 64)
		short.Source, short.Dyno = truncateUTF8(r.Source, 64), truncateUTF8(r.Dyno, 64)
		r, attrs = &short, nil
		room = max - len(appendJSONRecord(nil, r, "", nil, nil, 1<<30, 1<<30))
	}
	pieces := splitJSON(msg, room)
	for i, p := range pieces {
		pieces[i] = string(appendJSONRecord(nil, r, p, nil, attrs, i+1, len(pieces)))
	}
	return pieces
}

// appendJSONRecord appends the JSON object of one event; part is 0 for a whole line.
// fields are the message's logfmt pairs, attrs the sender's explicit attributes.
func appendJSONRecord(b []byte, r *drainpipe.Record, msg string, fields [][2]string, attrs []drainpipe.Attr, part, parts int) []byte {
	b = append(b, `{"time":"`...)
	b = eventTime(r).UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendJSONField(b, "app", r.App)
	b = appendJSONField(b, "drain", r.Drain)
	b = appendJSONField(b, "source", r.Source)
	b = appendJSONField(b, "dyno", r.Dyno)
	if r.Malformed {
		b = append(b, `,"malformed":true`...)
	}
	b = appendJSONField(b, "message", msg)
	if part > 0 {
		b = append(b, `,"part":`...)
		b = strconv.AppendInt(b, int64(part), 10)
		b = append(b, `,"parts":`...)
		b = strconv.AppendInt(b, int64(parts), 10)
	}
	if len(fields) > 0 {
		b = append(b, `,"fields":{`...)
		for i, f := range fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f[0])
			b = append(b, ':')
			b = appendJSONString(b, f[1])
		}
		b = append(b, '}')
	}
	if len(attrs) > 0 {
		b = append(b, `,"attributes":{`...)
		for i, a := range attrs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, a.Key)
			b = append(b, ':')
			b = appendJSONString(b, a.Value)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendJSONField(b []byte, key, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendJSONString(b, value)
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		b = appendJSONRune(b, r)
	}
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

func appendJSONRune(b []byte, r rune) []byte {
	switch {
	case r == '"' || r == '\\':
		return append(b, '\\', byte(r))
	case r == '\n':
		return append(b, '\\', 'n')
	case r == '\r':
		return append(b, '\\', 'r')
	case r == '\t':
		return append(b, '\\', 't')
	case r < 0x20 || r == '\u2028' || r == '\u2029':
		return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
	}
	return utf8.AppendRune(b, r)
}

// jsonRuneLen is how many bytes appendJSONRune writes for r.
func jsonRuneLen(r rune) int {
	switch {
	case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t':
		return 2
	case r < 0x20 || r == '\u2028' || r == '\u2029':
		return 6
	}
	return utf8.RuneLen(r)
}

// splitJSON cuts s into pieces whose JSON escaping takes at most n bytes each.
func splitJSON(s string, n int) []string {
	var pieces []string
	start, size := 0, 0
	for i, r := range s {
		l := jsonRuneLen(r)
		if size+l > n && i > start {
			pieces = append(pieces, s[start:i])
			start, size = i, 0
		}
		size += l
	}
	return append(pieces, s[start:])
}
