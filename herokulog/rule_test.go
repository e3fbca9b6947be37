package herokulog_test

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/herokulog"
	"github.com/drainpipe/drainpipe/internal/testfixtures"
	"github.com/drainpipe/drainpipe/logplex"
)

// TestEveryLoggingCode reads every L code of error-codes.tsv (internal/testfixtures:
// the list of Heroku's error codes) and checks how its wording is read: the codes
// that report drained lines lost give their count, the others give nothing. A code
// added to the list fails here until it is classified.
func TestEveryLoggingCode(t *testing.T) {
	t.Parallel()
	want := map[string]bool{"L10": true, "L11": false, "L12": true, "L13": true, "L14": false, "L15": false}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(testfixtures.Read(t, "error-codes.tsv")))
	for sc.Scan() {
		code, title, _ := strings.Cut(sc.Text(), "\t")
		title, _, _ = strings.Cut(title, "\t")
		if !strings.HasPrefix(code, "L") {
			continue
		}
		seen[code] = true
		loss, known := want[code]
		if !known {
			t.Errorf("%s (%s) is not classified: add it to this test and to LossReport's doc", code, title)
			continue
		}
		for _, msg := range wordings(code, title) {
			r := drainpipe.Record{Source: "heroku", Dyno: "logplex", Message: msg}
			n, ok := herokulog.LossReport(r)
			switch {
			case loss && (!ok || n != 42):
				t.Errorf("%s: LossReport(%q) = %d, %v; want 42, true", code, msg, n, ok)
			case !loss && ok:
				t.Errorf("%s: LossReport(%q) = %d, true; want no loss report", code, msg, n)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for code := range want {
		if !seen[code] {
			t.Errorf("%s is not in error-codes.tsv any more", code)
		}
	}
}

// wordings are the ways a code's line is written: the example the list quotes (N
// and T filled in), and the generic "Error Lnn (title): N messages dropped since T."
func wordings(code, title string) []string {
	const since = "2024-05-01T10:00:00+00:00"
	fill := strings.NewReplacer(" N ", " 42 ", "since T", "since "+since, "...", "error=\"x\"")
	out := []string{"Error " + code + " (" + strings.ToLower(title) + "): 42 messages dropped since " + since + "."}
	if _, quoted, ok := strings.Cut(title, `("`); ok {
		quoted, _, _ = strings.Cut(quoted, `")`)
		out = append(out, fill.Replace(quoted))
	}
	return out
}

// TestWordingsTheParsersDisagreedOn are the lines on which the archive's and the
// metrics' parsers once gave different counts; there is one parser now.
func TestWordingsTheParsersDisagreedOn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg string
		n   int
		ok  bool
	}{
		{"Error L11 (Tail buffer overflow): 4 messages dropped since 2024-05-01T10:00:00+00:00.", 0, false},
		{"Logplex drain buffer overflowed. 5 messages lost since 2024-05-01T10:00:00+00:00.", 5, true},
		{"- Error L12: 6 messages dropped since 2024-05-01T10:00:00+00:00", 6, true},
	}
	for _, tt := range tests {
		n, ok := herokulog.LossReport(drainpipe.Record{Source: "heroku", Dyno: "logplex", Message: tt.msg})
		if n != tt.n || ok != tt.ok {
			t.Errorf("LossReport(%q) = %d, %v; want %d, %v", tt.msg, n, ok, tt.n, tt.ok)
		}
	}
}

// TestFramedFixtures reads the loss reports of whole bodies as the receivers parse
// them: logplex's L10 frame that runs into the next one, and a syslog drain's.
func TestFramedFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		sd   bool
		want int
	}{
		{"goodeggs-l10-then-router.logplex", false, 3},
		{"syslog-drain-stream.rfc6587", true, 500},
	}
	for _, tt := range tests {
		body := testfixtures.Read(t, tt.file)
		recs, _ := logplex.AppendRecords(nil, body, logplex.Options{Received: time.Now(), StructuredData: tt.sd})
		loss := herokulog.BatchLoss(&drainpipe.Batch{Records: recs})
		if loss.Total != tt.want || loss.InLines != tt.want {
			t.Errorf("%s: BatchLoss = %+v, want %d in lines", tt.file, loss, tt.want)
		}
	}
}

// TestBatchLoss: one loss reported both by a line and by a header (log-shuttle does
// both in one request) is counted once; one reported one way is counted in full.
func TestBatchLoss(t *testing.T) {
	t.Parallel()
	heroku := func(msg string) drainpipe.Record {
		return drainpipe.Record{Source: "heroku", Dyno: "log-shuttle", Message: msg}
	}
	app := drainpipe.Record{Source: "app", Dyno: "web.1", Message: "Error L10 (output buffer overflow): 9 messages dropped since T."}
	l12 := heroku("Error L12: 6 messages dropped since 2013-11-04T21:31:32.125756+00:00")
	l13 := heroku("Error L13: 2 messages lost since 2013-11-04T21:31:32.125756+00:00")
	l10 := heroku("Error L10 (output buffer overflow): 3 messages dropped since 2015-06-08T21:47:22+00:00.")
	tests := []struct {
		name    string
		headers http.Header
		recs    []drainpipe.Record
		want    herokulog.Loss
	}{
		{"nothing lost", nil, []drainpipe.Record{app}, herokulog.Loss{}},
		{"log-shuttle: L12 line and its header", http.Header{"Logplex-Drop-Count": {"6"}}, []drainpipe.Record{l12, app}, herokulog.Loss{Total: 6, InLines: 6}},
		{"log-shuttle: L12 and L13, both headers", http.Header{"Logplex-Drop-Count": {"6"}, "Logplex-Lost-Count": {"2"}}, []drainpipe.Record{l12, l13}, herokulog.Loss{Total: 8, InLines: 8}},
		{"header only", http.Header{"Logplex-Drop-Count": {"5"}}, []drainpipe.Record{app}, herokulog.Loss{Total: 5}},
		{"lines only (logplex)", nil, []drainpipe.Record{l10, app, l10}, herokulog.Loss{Total: 6, InLines: 6}},
		{"header says more than the lines", http.Header{"Logplex-Drop-Count": {"10"}}, []drainpipe.Record{l12}, herokulog.Loss{Total: 10, InLines: 6}},
		{"lines say more than the header", http.Header{"Logplex-Lost-Count": {"2"}}, []drainpipe.Record{l12, l13}, herokulog.Loss{Total: 8, InLines: 8}},
	}
	for _, tt := range tests {
		b := &drainpipe.Batch{Dropped: herokulog.DropHeaders(tt.headers), Records: tt.recs}
		if got := herokulog.BatchLoss(b); got != tt.want {
			t.Errorf("%s: BatchLoss = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
