package herokulog_test

import (
	"bufio"
	"bytes"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/herokulog"
	"github.com/drainpipe/drainpipe/internal/testfixtures"
)

// fixtureRecords reads the realistic fixture's lines (internal/testfixtures) into
// records. Its parse is the bare minimum for these lines:
// the header's six fields, then the rest as the message, STRUCTURED-DATA and all.
func fixtureRecords(t testing.TB) []drainpipe.Record {
	t.Helper()
	var recs []drainpipe.Record
	sc := bufio.NewScanner(bytes.NewReader(testfixtures.Read(t, "heroku-drain-realistic.lines.txt")))
	for sc.Scan() {
		fields := strings.SplitN(sc.Text(), " ", 7)
		if len(fields) != 7 {
			t.Fatalf("line %d does not parse: %q", len(recs)+1, sc.Text())
		}
		recs = append(recs, drainpipe.Record{
			Host: fields[2], Source: fields[3], Dyno: fields[4], Message: fields[6],
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 38 {
		t.Fatalf("read %d fixture lines, want 38", len(recs))
	}
	return recs
}

// TestLossReportFixtures runs every line of the realistic fixture: only the L10
// (line 32) and L12 (line 33) lines are loss reports, and nothing else is.
func TestLossReportFixtures(t *testing.T) {
	t.Parallel()
	want := map[int]int{32: 3, 33: 222}
	for i, r := range fixtureRecords(t) {
		line := i + 1
		n, ok := herokulog.LossReport(r)
		wantN, wantOK := want[line]
		if ok != wantOK || n != wantN {
			t.Errorf("line %d (%s %s %.40q): LossReport = %d, %v; want %d, %v",
				line, r.Source, r.Dyno, r.Message, n, ok, wantN, wantOK)
		}
		// The same text from the app's own output is not Heroku's report.
		r.Source = "app"
		if n, ok := herokulog.LossReport(r); ok {
			t.Errorf("line %d as app output: LossReport = %d, true", line, n)
		}
	}
}

func TestLossReport(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		source  string
		message string
		n       int
		ok      bool
	}{
		{"L10 logplex", "heroku", "Error L10 (output buffer overflow): 491 messages dropped since 2015-09-15T16:22:24+00:00.", 491, true},
		{"L10 without a count", "heroku", "Error L10 (output buffer overflow)", 1, true},
		{"L10 bare", "heroku", "Error L10", 1, true},
		{"L12 log-shuttle", "t.token", "Error L12: 2 messages dropped since 2013-11-04T21:31:32.125756+00:00", 2, true},
		{"L12 after log-shuttle's empty SD", "token", "- Error L12: 7 messages dropped since 2013-11-04T21:31:32.125756+00:00", 7, true},
		{"L12 with title, no count", "heroku", "Error L12 (Local delivery buffer overflow)", 1, true},
		{"L13 log-shuttle", "token", "Error L13: 5 messages lost since 2014-01-10T00:00:00.000000+00:00.", 5, true},
		{"L13 with title and count", "heroku", "Error L13 (Local delivery failed): 12 messages lost since 2014-01-10T00:00:00Z.", 12, true},
		{"newer drain wording", "heroku", "drain 'd.0f6d7c8e-1b2a-4c3d-9e8f-0a1b2c3d4e5f' dropped 17 messages since 2023-02-01T10:00:00+00:00", 17, true},
		{"drain wording unquoted", "heroku", "Drain d.0f6d dropped 4 messages since 2023-02-01T10:00:00+00:00.", 4, true},
		{"drain wording one message", "heroku", "drain 'd.1' dropped 1 message since 2023-02-01T10:00:00+00:00", 1, true},
		{"syslog drain overflow", "logplex", "Logplex drain buffer overflowed. 81 messages lost since 2012-06-01T00:00:00+00:00.", 81, true},
		{"zero dropped", "heroku", "Error L10 (output buffer overflow): 0 messages dropped since 2015-09-15T16:22:24+00:00.", 0, true},
		{"count too large counts 1", "heroku", "Error L10 (output buffer overflow): 99999999999999999999999 messages dropped since T.", 1, true},
		{"L11 is a tail session's loss", "heroku", "Error L11 (Tail buffer overflow): 5 messages dropped since T.", 0, false},
		{"L14 is a TLS failure", "heroku", "Error L14 (certificate validation): error=\"bad cert\"", 0, false},
		{"L100 is not L10", "heroku", "Error L100: 5 messages dropped since T.", 0, false},
		{"L10 later in the line", "heroku", "Got Error L10 (output buffer overflow): 5 messages dropped since T.", 0, false},
		{"router error", "heroku", "at=error code=H12 desc=\"Request timeout\"", 0, false},
		{"R14", "heroku", "Error R14 (Memory quota exceeded)", 0, false},
		{"drain without count", "heroku", "drain 'd.1' dropped some messages", 0, false},
		{"drain sentence", "heroku", "drain the queue dropped 5 messages since T", 0, false},
		{"app quoting L10", "app", "Error L10 (output buffer overflow): 3 messages dropped since T.", 0, false},
		{"empty", "heroku", "", 0, false},
	}
	for _, tc := range cases {
		r := drainpipe.Record{Source: tc.source, Dyno: "logplex", Message: tc.message}
		n, ok := herokulog.LossReport(r)
		if n != tc.n || ok != tc.ok {
			t.Errorf("%s: LossReport(%q) = %d, %v; want %d, %v", tc.name, tc.message, n, ok, tc.n, tc.ok)
		}
	}
	malformed := drainpipe.Record{Source: "heroku", Message: "Error L10 (output buffer overflow): 3 messages dropped since T.", Malformed: true}
	if _, ok := herokulog.LossReport(malformed); ok {
		t.Error("a malformed record counted as a loss report")
	}
}

func TestDropHeaders(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		h    http.Header
		want int
	}{
		{"none", http.Header{}, 0},
		{"drop", http.Header{"Logplex-Drop-Count": {"2"}}, 2},
		{"lost", http.Header{"Logplex-Lost-Count": {"5"}}, 5},
		{"both", http.Header{"Logplex-Drop-Count": {"2"}, "Logplex-Lost-Count": {"5"}}, 7},
		{"repeated and listed", http.Header{"Logplex-Drop-Count": {"1", "2, 3"}}, 6},
		{"spaces", http.Header{"Logplex-Drop-Count": {" 4 "}}, 4},
		{"non-numeric ignored", http.Header{"Logplex-Drop-Count": {"many"}, "Logplex-Lost-Count": {"1"}}, 1},
		{"negative ignored", http.Header{"Logplex-Drop-Count": {"-3"}, "Logplex-Lost-Count": {"1"}}, 1},
		{"empty ignored", http.Header{"Logplex-Drop-Count": {""}}, 0},
		{"too large ignored", http.Header{"Logplex-Drop-Count": {"99999999999999999999999"}}, 0},
		{"saturates", http.Header{"Logplex-Drop-Count": {"9223372036854775807"}, "Logplex-Lost-Count": {"9"}}, math.MaxInt},
		{"other headers", http.Header{"Logplex-Msg-Count": {"10"}}, 0},
	}
	for _, tc := range cases {
		if got := herokulog.DropHeaders(tc.h); got != tc.want {
			t.Errorf("%s: DropHeaders = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func FuzzLossReport(f *testing.F) {
	for _, r := range fixtureRecords(f) {
		f.Add(r.Source, r.Message)
	}
	f.Add("heroku", "drain 'd.1' dropped 3 messages since T")
	f.Add("logplex", "Logplex drain buffer overflowed. 81 messages lost since T.")
	f.Add("token", "- Error L13: 5 messages lost since T.")
	f.Fuzz(func(t *testing.T, source, message string) {
		r := drainpipe.Record{Source: source, Message: message}
		n, ok := herokulog.LossReport(r)
		if n < 0 || (!ok && n != 0) {
			t.Fatalf("LossReport = %d, %v", n, ok)
		}
		if ok && source == "app" {
			t.Fatal("app output counted as a loss report")
		}
		if ok && !strings.Contains(message, "rror L1") && !strings.Contains(message, "rain ") && !strings.Contains(message, "overflowed") {
			t.Fatalf("%q counted as a loss report", message)
		}
	})
}

func BenchmarkLossReport(b *testing.B) {
	recs := fixtureRecords(b)
	b.ReportAllocs()
	lines := 0
	for b.Loop() {
		for _, r := range recs {
			herokulog.LossReport(r)
		}
		lines += len(recs)
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
}

func FuzzDropHeaders(f *testing.F) {
	f.Add("2", "5")
	f.Add("1, 2", "-3")
	f.Add("9223372036854775807", "9")
	f.Add("many", "")
	f.Fuzz(func(t *testing.T, drop, lost string) {
		h := http.Header{"Logplex-Drop-Count": {drop}, "Logplex-Lost-Count": {lost}}
		if n := herokulog.DropHeaders(h); n < 0 {
			t.Fatalf("DropHeaders(%q, %q) = %d", drop, lost, n)
		}
	})
}
