package logplex

// The fuzz targets live inside the package: the byte accounting they check needs the
// units the framing cut, which the API does not expose.

import (
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/internal/testfixtures"
	"github.com/drainpipe/drainpipe/rfc5424"
)

var fuzzReceived = time.Date(2026, 11, 22, 4, 0, 0, 123456000, time.UTC)

// addFixtureSeeds seeds f with every fixture file (internal/testfixtures).
func addFixtureSeeds(f *testing.F, add func(body []byte)) {
	err := fs.WalkDir(testfixtures.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(testfixtures.FS, path)
		if err != nil {
			return err
		}
		add(b)
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
}

func FuzzAppendRecords(f *testing.F) {
	addFixtureSeeds(f, func(b []byte) {
		f.Add(b, false)
		f.Add(b, true)
	})
	f.Fuzz(func(t *testing.T, body []byte, sd bool) {
		opt := Options{Received: fuzzReceived, StructuredData: sd}
		recs, st := AppendRecords(nil, body, opt)
		checkAccounting(t, string(body), recs, st, opt)
		for _, r := range recs {
			checkUTF8(t, r)
			if !r.Malformed {
				checkRoundTrip(t, r)
			}
		}
	})
}

// checkAccounting walks the units the framing cut and checks that they and the
// whitespace between them cover the body, and that each record holds its unit's bytes.
func checkAccounting(t *testing.T, s string, recs []drainpipe.Record, st Stats, opt Options) {
	t.Helper()
	var want Stats
	pos, n := 0, 0
	for {
		u, ok := nextUnit(s, pos)
		if !ok {
			break
		}
		if strings.Trim(s[pos:u.start], " \r\n") != "" || u.start >= u.end && u.msg < 0 {
			t.Fatalf("unit %+v after %d: skipped non-whitespace or made no progress", u, pos)
		}
		pos = u.end
		if u.msg == u.end {
			want.Empty++
			continue
		}
		if n >= len(recs) {
			t.Fatalf("more units than the %d records", len(recs))
		}
		r := recs[n]
		n++
		want.Frames++
		var wantRec drainpipe.Record
		if u.msg < 0 {
			wantRec = rfc5424.Malformed(s[u.start:u.end], opt.Received)
			want.Malformed++
		} else if valid, timeOK := rfc5424.ParseInto(&wantRec, s[u.msg:u.end], opt); !valid {
			want.Malformed++
		} else if !timeOK {
			want.BadTimestamps++
		}
		if !reflect.DeepEqual(r, wantRec) {
			t.Fatalf("record %d = %+v, want %+v", n-1, r, wantRec)
		}
	}
	if strings.Trim(s[pos:], " \r\n") != "" {
		t.Fatalf("bytes after the last unit: %q", s[pos:])
	}
	if n != len(recs) || st != want {
		t.Fatalf("%d records, stats %+v; want %d and %+v", len(recs), st, n, want)
	}
}

func checkUTF8(t *testing.T, r drainpipe.Record) {
	t.Helper()
	for _, f := range []string{r.Host, r.Source, r.Dyno, r.MsgID, r.StructuredData, r.Message} {
		if !utf8.ValidString(f) {
			t.Fatalf("invalid UTF-8 in %+v", r)
		}
	}
}

// checkRoundTrip writes r as logplex would and reads it back.
func checkRoundTrip(t *testing.T, r drainpipe.Record) {
	t.Helper()
	body := AppendFrame(nil, AppendMessage(nil, r))
	got, st := AppendRecords(nil, body, Options{Received: fuzzReceived})
	if len(got) != 1 || st.Malformed != 0 {
		t.Fatalf("%q from %+v parsed as %+v", body, r, got)
	}
	g := got[0]
	if g.Priority != r.Priority || g.Source != r.Source || g.Dyno != r.Dyno || g.Message != r.Message ||
		!g.Time.Equal(r.Time.Truncate(time.Microsecond)) {
		t.Fatalf("round trip of %+v through %q gave %+v", r, body, g)
	}
}

// FuzzOneFrame: a message framed alone parses as the message does on its own
// (rfc5424 fuzzes the message parser itself).
func FuzzOneFrame(f *testing.F) {
	addFixtureSeeds(f, func(b []byte) {
		recs, _ := AppendRecords(nil, b, Options{})
		for _, r := range recs {
			if !r.Malformed {
				f.Add(string(AppendMessage(nil, r)), false)
			}
		}
		f.Add(string(b), true)
	})
	f.Fuzz(func(t *testing.T, msg string, sd bool) {
		if msg == "" {
			return
		}
		opt := Options{Received: fuzzReceived, StructuredData: sd}
		r, _ := rfc5424.Parse(msg, opt)
		recs, _ := AppendRecords(nil, AppendFrame(nil, []byte(msg)), opt)
		if len(recs) != 1 || !reflect.DeepEqual(recs[0], r) {
			t.Fatalf("framed %q gave %+v, want %+v", msg, recs, r)
		}
	})
}
