package logplex_test

import (
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/logplex"
)

// line is the part of a record the framing rules decide.
type line struct {
	Malformed bool
	Source    string
	Message   string
}

func lines(recs []drainpipe.Record) []line {
	out := make([]line, 0, len(recs))
	for _, r := range recs {
		out = append(out, line{r.Malformed, r.Source, r.Message})
	}
	return out
}

const (
	okMsg  = "<190>1 2022-06-13T14:52:23.621815+00:00 host app web.1 - ok\n"
	okBody = "60 " + okMsg
)

var ok = line{Source: "app", Message: "ok"}

func bad(raw string) line { return line{Malformed: true, Message: raw} }

func TestFramingRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		body  string
		want  []line
		stats logplex.Stats
	}{
		{"empty body", "", []line{}, logplex.Stats{}},
		{"only whitespace", " \r\n\n ", []line{}, logplex.Stats{}},
		{"one frame", okBody, []line{ok}, logplex.Stats{Frames: 1}},
		{"whitespace between frames", "\r\n " + okBody + "\r\n\n" + okBody + "\n\n", []line{ok, ok}, logplex.Stats{Frames: 2}},
		{"leading zeros", "00060 " + okMsg, []line{ok}, logplex.Stats{Frames: 1}},
		{"zero count", "0 " + okBody + "0 ", []line{ok}, logplex.Stats{Frames: 1, Empty: 2}},
		{"no newline runs into next frame",
			"59 " + strings.TrimSuffix(okMsg, "\n") + okBody,
			[]line{ok, ok}, logplex.Stats{Frames: 2}},
		{"embedded newline stays", frame("<190>1 2022-06-13T14:52:23.621815+00:00 host app web.1 - a\nb\nc\n"),
			[]line{{Source: "app", Message: "a\nb\nc"}}, logplex.Stats{Frames: 1}},
		{"negative count then valid", "-5 x\n" + okBody, []line{bad("-5 x"), ok}, logplex.Stats{Frames: 2, Malformed: 1}},
		{"letters in count then valid", "12a x\r\n" + okBody, []line{bad("12a x"), ok}, logplex.Stats{Frames: 2, Malformed: 1}},
		{"no count at all", "xxxx", []line{bad("xxxx")}, logplex.Stats{Frames: 1, Malformed: 1}},
		{"count without space", "60\n" + okBody, []line{bad("60"), ok}, logplex.Stats{Frames: 2, Malformed: 1}},
		{"count past the end", okBody + "99 <190>1 short\n", []line{ok, bad("99 <190>1 short")}, logplex.Stats{Frames: 2, Malformed: 1}},
		{"huge count resyncs at next frame", "1000000 <158>1 x\n" + okBody, []line{bad("1000000 <158>1 x"), ok}, logplex.Stats{Frames: 2, Malformed: 1}},
		{"count overflowing int", "99999999999999999999999999 a\n" + okBody, []line{bad("99999999999999999999999999 a"), ok}, logplex.Stats{Frames: 2, Malformed: 1}},
		{"bad unit keeps continuation lines", "-1 a\nstack line\n  at x\n" + okBody,
			[]line{bad("-1 a\nstack line\n  at x"), ok}, logplex.Stats{Frames: 2, Malformed: 1}},
		{"bad unit ignores frame start mid-line", "-1 a 60 <190>\n" + okBody,
			[]line{bad("-1 a 60 <190>"), ok}, logplex.Stats{Frames: 2, Malformed: 1}},
		{"counted frame not RFC 5424", "6 hello\n" + okBody, []line{bad("hello\n"), ok}, logplex.Stats{Frames: 2, Malformed: 1}},
		{"bad timestamp is not malformed", frame("<13>1 - host app web.1 - no time\n"),
			[]line{{Source: "app", Message: "no time"}}, logplex.Stats{Frames: 1, BadTimestamps: 1}},
		{"year 9999 is no time", frame("<13>1 9999-12-31T23:59:59Z host app web.1 - far\n"),
			[]line{{Source: "app", Message: "far"}}, logplex.Stats{Frames: 1, BadTimestamps: 1}},
		{"year 1 is no time", frame("<13>1 0001-01-01T00:00:00Z host app web.1 - early\n"),
			[]line{{Source: "app", Message: "early"}}, logplex.Stats{Frames: 1, BadTimestamps: 1}},
		{"invalid UTF-8 escaped in malformed", "-\xff\n", []line{bad(`-\xff`)}, logplex.Stats{Frames: 1, Malformed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			recs, st := logplex.AppendRecords(nil, []byte(tt.body), logplex.Options{Received: received})
			if got := lines(recs); !equalLines(got, tt.want) {
				t.Errorf("records:\n got %+v\nwant %+v", got, tt.want)
			}
			if st != tt.stats {
				t.Errorf("stats %+v, want %+v", st, tt.stats)
			}
			for _, r := range recs {
				if !r.Received.Equal(received) || r.Malformed && (r.Priority != -1 || !r.Time.Equal(received)) {
					t.Errorf("record %+v: want Received stamped, and Priority -1 and Time = Received when malformed", r)
				}
				if st.BadTimestamps > 0 && !r.Time.Equal(received) {
					t.Errorf("record %+v: a timestamp that is no time gives Time = Received", r)
				}
			}
		})
	}
}

func frame(msg string) string { return string(logplex.AppendFrame(nil, []byte(msg))) }

func equalLines(a, b []line) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAppendRecordsAppends(t *testing.T) {
	t.Parallel()
	dst := []drainpipe.Record{{Message: "before"}}
	recs, _ := logplex.AppendRecords(dst, []byte(okBody), logplex.Options{Received: received})
	if len(recs) != 2 || recs[0].Message != "before" || recs[1].Message != "ok" {
		t.Fatalf("got %+v, want the earlier record kept and one appended", recs)
	}
}

// TestRecordsOutliveBody checks that records do not alias the caller's buffer, which a
// receiver reuses for the next request.
func TestRecordsOutliveBody(t *testing.T) {
	t.Parallel()
	body := []byte(okBody)
	recs, _ := logplex.AppendRecords(nil, body, logplex.Options{Received: received.Add(time.Second)})
	for i := range body {
		body[i] = 'x'
	}
	if recs[0].Message != "ok" || recs[0].Source != "app" {
		t.Fatalf("record changed with the body: %+v", recs[0])
	}
}
