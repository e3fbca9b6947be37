package logplex

import (
	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/rfc5424"
)

// Options say how to read the messages of one body; the receiver chooses them by
// sender (see rfc5424.Options).
type Options = rfc5424.Options

// Stats count what a body held.
type Stats struct {
	// Frames is the number of records appended, malformed ones included.
	Frames int
	// Malformed is the number of records appended with Malformed set.
	Malformed int
	// BadTimestamps is the number of valid records whose timestamp was "-" or did not
	// parse, and so carry Received as their Time.
	BadTimestamps int
	// Empty is the number of zero-length frames ("0 "), which yield no record.
	Empty int
}

// AppendRecords parses body and appends one Record per frame to dst. It never fails and
// never drops a byte: what does not parse becomes a record with Malformed set and
// Message holding the raw bytes (see the package doc for the framing rules). The
// records' strings share one copy of body. Drain and App are left for the caller.
func AppendRecords(dst []drainpipe.Record, body []byte, opt Options) ([]drainpipe.Record, Stats) {
	return AppendRecordsString(dst, string(body), opt)
}

// AppendRecordsString is AppendRecords over a body held in a string: the records'
// strings point into s, nothing is copied.
func AppendRecordsString(dst []drainpipe.Record, s string, opt Options) ([]drainpipe.Record, Stats) {
	var st Stats
	for pos := 0; ; {
		u, ok := nextUnit(s, pos)
		if !ok {
			return dst, st
		}
		pos = u.end
		if u.msg == u.end {
			st.Empty++
			continue
		}
		dst = append(dst, drainpipe.Record{})
		rec := &dst[len(dst)-1]
		st.Frames++
		if u.msg < 0 {
			*rec = rfc5424.Malformed(s[u.start:u.end], opt.Received)
			st.Malformed++
			continue
		}
		valid, timeOK := rfc5424.ParseInto(rec, s[u.msg:u.end], opt)
		switch {
		case !valid:
			st.Malformed++
		case !timeOK:
			st.BadTimestamps++
		}
	}
}
