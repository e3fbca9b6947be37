package rfc5424

import (
	"strings"
	"time"

	"github.com/drainpipe/drainpipe"
)

// Options say how to read a message; a receiver chooses them by sender.
type Options struct {
	// Received is stamped on the record, and used as Time when a timestamp does not parse.
	Received time.Time
	// StructuredData is false for HTTPS logplex, whose messages have no STRUCTURED-DATA
	// field ("<PRI>1 TS HOST APP PROCID MSGID MSG"), and true for log-shuttle and syslog
	// drains, which send "- -" for MSGID and STRUCTURED-DATA.
	StructuredData bool
}

// Parse parses one RFC 5424 message (no octet count or other framing). One trailing
// "\n" or "\r\n" is stripped from the message text.
//
// The header is read strictly: "<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP
// PROCID SP MSGID", PRI at most 191, each field one or more printable ASCII characters.
// Time is in UTC. A timestamp that is "-", does not parse, or lies outside the years
// 1678 to 2262 that a record can carry (drainpipe.KnownTime) leaves Time at opt.Received
// and the record valid. With opt.StructuredData the field after MSGID is STRUCTURED-DATA when it is "-"
// or a run of "[...]" elements, and otherwise taken to be the start of the message.
//
// ok is false when the header does not parse; rec is then a Malformed record holding
// msg as is (invalid UTF-8 escaped), which the caller may keep.
func Parse(msg string, opt Options) (rec drainpipe.Record, ok bool) {
	ok, _ = ParseInto(&rec, msg, opt)
	return rec, ok
}

// ParseInto is Parse into a record the caller holds (an element of a slice it is
// filling), and also reports whether the timestamp parsed. The strings in rec are
// slices of msg, so parsing a body allocates nothing per field.
func ParseInto(rec *drainpipe.Record, msg string, opt Options) (ok, timeOK bool) {
	h, ok := parseHeader(trimNewline(msg), opt.StructuredData)
	if !ok {
		*rec = Malformed(msg, opt.Received)
		return false, false
	}
	*rec = drainpipe.Record{Received: opt.Received, Time: opt.Received, Priority: h.pri}
	// APP-NAME, PROCID and MSGID may be "-", syslog's nil value: a line from
	// `logger` without a PID has no dyno, not a dyno called "-".
	rec.Host, rec.Source, rec.Dyno = h.host, nilValue(h.app), nilValue(h.procID)
	rec.MsgID = nilValue(h.msgID)
	rec.StructuredData = ValidString(nilValue(h.sd))
	rec.Message = ValidString(h.msg)
	if t, ok := parseTimestamp(h.timestamp); ok {
		rec.Time = t
		return true, true
	}
	if h.timestamp != "-" {
		// The line is filed under the time received; what its sender wrote
		// stays with it.
		rec.Attrs = []drainpipe.Attr{{Key: TimestampAttr, Value: ValidString(h.timestamp)}}
	}
	return true, false
}

// TimestampAttr is the attribute that keeps a TIMESTAMP that did not parse (or
// lies outside what a record can carry), as its sender wrote it.
const TimestampAttr = "syslog.timestamp"

// Malformed is the record that keeps bytes that did not parse, so that nothing is
// lost: Message holds them (invalid UTF-8 escaped by ValidString), Priority is -1 and
// Time is received.
func Malformed(raw string, received time.Time) drainpipe.Record {
	return drainpipe.Record{
		Received:  received,
		Time:      received,
		Priority:  -1,
		Message:   ValidString(raw),
		Malformed: true,
	}
}

// header holds the fields of an RFC 5424 message, as slices of it.
type header struct {
	pri                                 int
	timestamp, host, app, procID, msgID string
	sd, msg                             string
}

func parseHeader(s string, withSD bool) (h header, ok bool) {
	i, ok := parsePRI(s, &h.pri)
	if !ok {
		return h, false
	}
	// VERSION: 1 to 3 digits, then the five fields, each after one space.
	j := i
	for j < len(s) && j-i < 3 && isDigit(s[j]) {
		j++
	}
	if j == i {
		return h, false
	}
	fields := [5]*string{&h.timestamp, &h.host, &h.app, &h.procID, &h.msgID}
	i = j
	for _, f := range fields {
		if i >= len(s) || s[i] != ' ' {
			return h, false
		}
		if *f, i, ok = token(s, i+1); !ok {
			return h, false
		}
	}
	if i == len(s) {
		return h, true
	}
	if s[i] != ' ' {
		return h, false
	}
	i++
	rest := s[i:]
	if withSD {
		h.sd, rest = splitSD(rest)
	}
	h.msg = rest
	return h, true
}

// parsePRI reads "<PRI>" into pri and returns the index after it.
func parsePRI(s string, pri *int) (int, bool) {
	if len(s) < 3 || s[0] != '<' {
		return 0, false
	}
	n, i := 0, 1
	for i < len(s) && i <= 3 && isDigit(s[i]) {
		n = n*10 + int(s[i]-'0')
		i++
	}
	if i == 1 || i >= len(s) || s[i] != '>' || n > 191 {
		return 0, false
	}
	*pri = n
	return i + 1, true
}

// token returns the run of printable ASCII (33 to 126) that starts at i; RFC 5424 allows
// nothing else in a header field, which also keeps every field valid UTF-8.
func token(s string, i int) (string, int, bool) {
	j := i
	for j < len(s) && s[j] != ' ' {
		if s[j] < '!' || s[j] > '~' {
			return "", 0, false
		}
		j++
	}
	return s[i:j], j, j > i
}

// splitSD splits STRUCTURED-DATA from the message. Senders that have none (or do not
// know the field) put the message right after MSGID; so a rest that is neither "-" nor
// a well-formed run of "[...]" elements followed by a space or the end is all message.
func splitSD(rest string) (sd, msg string) {
	if rest == "-" {
		return "-", ""
	}
	if strings.HasPrefix(rest, "- ") {
		return "-", rest[2:]
	}
	end := sdEnd(rest)
	switch {
	case end == 0:
		return "", rest
	case end == len(rest):
		return rest, ""
	case rest[end] == ' ':
		return rest[:end], rest[end+1:]
	}
	return "", rest
}

// sdEnd returns the length of the run of SD-ELEMENTs at the start of s, or 0 when there
// is none. Inside an element a backslash escapes the next byte (RFC 5424 requires `"`,
// `\` and `]` to be escaped in values), so the first unescaped ']' closes it.
func sdEnd(s string) int {
	i := 0
	for i < len(s) && s[i] == '[' {
		j := i + 1
		if j < len(s) && (s[j] == ']' || s[j] == ' ') {
			return 0 // an SD-ID is required
		}
		for ; j < len(s) && s[j] != ']'; j++ {
			if s[j] == '\\' {
				j++
			}
		}
		if j >= len(s) {
			return 0
		}
		i = j + 1
	}
	return i
}

func nilValue(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// trimNewline strips exactly one trailing "\n" or "\r\n".
func trimNewline(s string) string {
	if strings.HasSuffix(s, "\r\n") {
		return s[:len(s)-2]
	}
	if strings.HasSuffix(s, "\n") {
		return s[:len(s)-1]
	}
	return s
}
