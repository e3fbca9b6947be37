package logplex

import (
	"strconv"

	"github.com/drainpipe/drainpipe"
)

// timeLayout is how logplex writes timestamps: microseconds and a numeric offset.
const timeLayout = "2006-01-02T15:04:05.000000-07:00"

// AppendMessage appends r as an HTTPS-logplex message,
// "<PRI>1 TIMESTAMP host SOURCE DYNO - MESSAGE\n", as Heroku writes them: the literal
// hostname "host", no STRUCTURED-DATA, Time with microseconds. Frame it with AppendFrame;
// the result parses back through AppendRecords to r's fields (Time to the microsecond).
//
// Source and Dyno must be tokens (printable ASCII, no space); an empty one is written as
// "-". A Priority outside 0..191 is written as 13 (user.notice, the syslog default). A
// Message ending in "\r" is written without the final "\n", which would otherwise turn
// into a "\r\n" that the parser strips.
func AppendMessage(dst []byte, r drainpipe.Record) []byte {
	pri := r.Priority
	if pri < 0 || pri > 191 {
		pri = 13
	}
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(pri), 10)
	dst = append(dst, ">1 "...)
	dst = r.Time.AppendFormat(dst, timeLayout)
	dst = append(dst, " host "...)
	dst = appendField(dst, r.Source)
	dst = append(dst, ' ')
	dst = appendField(dst, r.Dyno)
	dst = append(dst, " - "...)
	dst = append(dst, r.Message...)
	if len(r.Message) > 0 && r.Message[len(r.Message)-1] == '\r' {
		return dst
	}
	return append(dst, '\n')
}

func appendField(dst []byte, f string) []byte {
	if f == "" {
		return append(dst, '-')
	}
	return append(dst, f...)
}
