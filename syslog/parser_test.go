package syslog_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/syslog"
)

var received = time.Date(2026, 11, 22, 4, 0, 0, 123456000, time.UTC)

// got is the part of a record the parser decides, Time as text for short tables.
type got struct {
	Malformed                   bool
	Priority                    int
	Time                        string
	Host, Source, Dyno, Message string
}

func project(r drainpipe.Record) got {
	return got{r.Malformed, r.Priority, r.Time.UTC().Format(time.RFC3339Nano), r.Host, r.Source, r.Dyno, r.Message}
}

// readAll parses the whole stream, checking that every record carries received.
func readAll(t testing.TB, r io.Reader, maxFrame int) []got {
	t.Helper()
	p := syslog.NewParser(r, maxFrame)
	out := []got{}
	for {
		rec, err := p.Next(received)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if !rec.Received.Equal(received) {
			t.Fatalf("record %+v not stamped with the receive time", rec)
		}
		out = append(out, project(rec))
	}
}

const recv = "2026-11-22T04:00:00.123456Z"

func bad(msg string) got { return got{Malformed: true, Priority: -1, Time: recv, Message: msg} }

func TestParser(t *testing.T) {
	t.Parallel()
	stream, err := os.ReadFile("testdata/syslog-drain-stream.rfc6587")
	if err != nil {
		t.Fatal(err)
	}
	const tok = "d.9173ea1f-6f14-4976-9cf0-7cd0dafdcdbc"
	heroku := []got{
		{false, 45, "2013-01-01T01:01:01Z", tok, "heroku", "worker.1", "source=worker.1 dyno=heroku.97268060.75eb7bb9-ab78-41be-9cc7-576eaad6dae7 sample#memory_total=318.20MB sample#memory_rss=304.71MB sample#memory_cache=13.48MB sample#memory_swap=0.00MB sample#memory_pgpgin=143756pages sample#memory_pgpgout=62297pages sample#memory_quota=512.00MB"},
		{false, 190, "2013-01-01T01:01:01Z", tok, "app", "web.1", "Your message here."},
		{false, 172, "2013-04-17T19:04:46Z", tok, "heroku", "logplex", "Error L10 (output buffer overflow): 500 messages dropped since 2013-04-17T19:04:46+00:00."},
	}
	const m5424 = "<190>1 2026-11-22T03:00:00Z d.x app web.1 - - hi"
	ok5424 := got{false, 190, "2026-11-22T03:00:00Z", "d.x", "app", "web.1", "hi"}
	tests := []struct {
		name     string
		stream   string
		maxFrame int
		want     []got
	}{
		{"heroku drain fixture", string(stream), 0, heroku},
		{"empty", "", 0, []got{}},
		{"octet counted", "48 " + m5424 + "49 " + m5424 + "\n", 0, []got{ok5424, ok5424}},
		{"newline framed", m5424 + "\n" + m5424 + "\r\n\n", 0, []got{ok5424, ok5424}},
		{"mixed framing", m5424 + "\n48 " + m5424 + m5424 + "\n0 \n", 0, []got{ok5424, ok5424, ok5424}},
		{"last line without newline", m5424, 0, []got{ok5424}},
		{"3164", "<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed\n", 0,
			[]got{{false, 34, "2026-10-11T22:14:15Z", "mymachine", "su", "230", "'su root' failed"}}},
		{"3164 without pid, one-digit day", "<13>Nov  2 01:02:03 host app: hello world\n", 0,
			[]got{{false, 13, "2026-11-02T01:02:03Z", "host", "app", "", "hello world"}}},
		{"3164 from last year", "<13>Dec 31 23:59:59 host app: old\n", 0,
			[]got{{false, 13, "2025-12-31T23:59:59Z", "host", "app", "", "old"}}},
		{"3164 without tag", "<13>Nov  2 01:02:03 host just text\n", 0,
			[]got{{false, 13, "2026-11-02T01:02:03Z", "host", "", "", "just text"}}},
		{"3164 without host", "<13>Nov  2 01:02:03 cron[7]: job\n", 0,
			[]got{{false, 13, "2026-11-02T01:02:03Z", "", "cron", "7", "job"}}},
		{"3164 octet counted", frame("<13>Nov  2 01:02:03 host app: hello world\n"), 0,
			[]got{{false, 13, "2026-11-02T01:02:03Z", "host", "app", "", "hello world"}}},
		{"3164 keeps a lone CR", frame("<13>Nov  2 01:02:03 host app: x\r"), 0,
			[]got{{false, 13, "2026-11-02T01:02:03Z", "host", "app", "", "x\r"}}},
		{"3164 Feb 29 in a common year", "<13>Feb 29 01:02:03 host app: x\n", 0, []got{bad("<13>Feb 29 01:02:03 host app: x")}},
		{"not syslog", "hello\n" + m5424 + "\n", 0, []got{bad("hello"), ok5424}},
		{"digits without space", "123abc\n" + m5424 + "\n", 0, []got{bad("123abc"), ok5424}},
		{"invalid UTF-8", "<13>1 - d.x app web.1 - - caf\xe9\n", 0,
			[]got{{false, 13, recv, "d.x", "app", "web.1", `caf\xe9`}}},
		{"truncated octet frame", m5424 + "\n99 <13>1 short", 0, []got{ok5424, bad("99 <13>1 short")}},
		{"truncated count", m5424 + "\n99", 0, []got{ok5424, bad("99")}},
		{"oversized octet frame", "40 " + strings.Repeat("a", 40) + m5424 + "\n", 16,
			[]got{bad("40 " + strings.Repeat("a", 16)), bad(strings.Repeat("a", 16)), bad(strings.Repeat("a", 8)),
				bad("<190>1 2026-11-2"), bad("2T03:00:00Z d.x "), bad("app web.1 - - hi")}},
		{"oversized line", strings.Repeat("b", 40) + "\n" + m5424 + "\n", 16,
			[]got{bad(strings.Repeat("b", 16)), bad(strings.Repeat("b", 16)), bad(strings.Repeat("b", 8)),
				bad("<190>1 2026-11-2"), bad("2T03:00:00Z d.x "), bad("app web.1 - - hi")}},
		{"oversized line, then a fitting one", strings.Repeat("b", 20) + "\n<13>1 - h a p -\n", 16,
			[]got{bad(strings.Repeat("b", 16)), bad("bbbb"), {false, 13, recv, "h", "a", "p", ""}}},
		{"oversized octet frame cut at a piece's end", "40 " + strings.Repeat("a", 16), 16,
			[]got{bad("40 " + strings.Repeat("a", 16))}},
		{"oversized octet frame cut inside a piece", "40 " + strings.Repeat("a", 20), 16,
			[]got{bad("40 " + strings.Repeat("a", 16)), bad("aaaa")}},
		{"max frame below 16 is 16", strings.Repeat("c", 17) + "\n", 1, []got{bad(strings.Repeat("c", 16)), bad("c")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			whole := readAll(t, strings.NewReader(tt.stream), tt.maxFrame)
			if !equal(whole, tt.want) {
				t.Errorf("records:\n got %+v\nwant %+v", whole, tt.want)
			}
			// The same stream read one byte at a time must give the same records.
			bytewise := readAll(t, iotest.OneByteReader(strings.NewReader(tt.stream)), tt.maxFrame)
			if !equal(bytewise, tt.want) {
				t.Errorf("one byte at a time:\n got %+v\nwant %+v", bytewise, tt.want)
			}
		})
	}
}

func frame(msg string) string { return fmt.Sprintf("%d %s", len(msg), msg) }

func equal(a, b []got) bool {
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

// TestParserSplitAtEveryByte cuts a mixed stream at every byte boundary.
func TestParserSplitAtEveryByte(t *testing.T) {
	t.Parallel()
	stream := "48 <190>1 2026-11-22T03:00:00Z d.x app web.1 - - hi" +
		"<13>Nov  2 01:02:03 host app: hello\r\n" +
		"\n0 junk line\n57 <190>1 2026-11-22T03:00:00Z d.x app web.1 - - multi\nline\n"
	want := readAll(t, strings.NewReader(stream), 0)
	if len(want) != 4 {
		t.Fatalf("whole stream gave %d records, want 4: %+v", len(want), want)
	}
	for i := 1; i < len(stream); i++ {
		r := io.MultiReader(strings.NewReader(stream[:i]), strings.NewReader(stream[i:]))
		if got := readAll(t, r, 0); !equal(got, want) {
			t.Fatalf("split at %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

func TestParserReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	p := syslog.NewParser(io.MultiReader(strings.NewReader("<13>1 - h a p - - x\n30 <13>1 cut"), iotest.ErrReader(boom)), 0)
	first, err := p.Next(received)
	if err != nil || first.Message != "x" {
		t.Fatalf("first = %+v, %v", first, err)
	}
	partial, err := p.Next(received)
	if err != nil || !partial.Malformed || partial.Message != "30 <13>1 cut" {
		t.Fatalf("partial frame = %+v, %v; want it kept as malformed", partial, err)
	}
	if _, err := p.Next(received); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if _, err := p.Next(received); !errors.Is(err, boom) {
		t.Fatalf("err after error = %v, want boom again", err)
	}
}
