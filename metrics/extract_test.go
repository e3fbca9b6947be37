package metrics_test

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/internal/testfixtures"
	"github.com/drainpipe/drainpipe/metrics"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// parseLine reads the fixture's RFC 5424 lines as a drain receiver would: HTTPS drains
// send no STRUCTURED-DATA, log-shuttle sends "- -".
func parseLine(tb testing.TB, line string) drainpipe.Record {
	tb.Helper()
	f := strings.SplitN(line, " ", 7)
	if len(f) < 7 {
		tb.Fatalf("short line %q", line)
	}
	ts, err := time.Parse(time.RFC3339Nano, f[1])
	if err != nil {
		tb.Fatalf("time of %q: %v", line, err)
	}
	msg := f[6]
	if f[4] == "log-shuttle" {
		msg = strings.TrimPrefix(msg, "- ")
	}
	return drainpipe.Record{App: "myapp", Time: ts, Host: f[2], Source: f[3], Dyno: f[4], Message: msg}
}

func fixtureRecords(tb testing.TB) []drainpipe.Record {
	tb.Helper()
	var recs []drainpipe.Record
	sc := bufio.NewScanner(bytes.NewReader(testfixtures.Read(tb, "heroku-drain-realistic.lines.txt")))
	for sc.Scan() {
		recs = append(recs, parseLine(tb, sc.Text()))
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return recs
}

func formatSample(s metrics.Sample) string {
	return fmt.Sprintf("%s %s value=%g unit=%q source=%q str=%q time=%s",
		s.Kind, s.Name, s.Value, s.Unit, s.Source, s.Str, s.Time.UTC().Format(time.RFC3339Nano))
}

func TestExtractFixtureGolden(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i, r := range fixtureRecords(t) {
		fmt.Fprintf(&b, "# %d %s %s: %.70s\n", i+1, r.Source, r.Dyno, r.Message)
		err := metrics.Extract(r, func(s metrics.Sample) { fmt.Fprintln(&b, formatSample(s)) })
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
		}
	}
	golden(t, "testdata/extract.golden", b.String())
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update after checking):\n%s", path, got)
	}
}

func TestExtractCases(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name          string
		source, dyno  string
		msg           string
		want          []string // "kind name value unit source [str]"
		wantFailures  int
		wantErrorIsNN bool
	}{
		{"negative and fractional", "app", "web.1", "sample#temp=-3.5C measure#delta=-12ms count#x=0.25",
			[]string{"gauge temp -3.5 C web.1", "distribution delta -12 ms web.1", "counter x 0.25  web.1"}, 0, false},
		{"empty count is one", "app", "web.2", "count#signup= count#other",
			[]string{"counter signup 1  web.2", "counter other 1  web.2"}, 0, false},
		{"not a number", "app", "web.1", "measure#a=fast measure#b=12ms sample#c=1.2.3 sample#d=NaN sample#e=1e5 measure#f=",
			[]string{"distribution b 12 ms web.1"}, 5, true},
		{"no name", "app", "web.1", "count#=3 count#ok=1", []string{"counter ok 1  web.1"}, 1, false},
		{"unique", "app", "web.1", `unique#user=alice unique#user="bob smith" unique#empty=`,
			[]string{"unique user 1  web.1 alice", "unique user 1  web.1 bob smith"}, 1, false},
		{"source after fields", "app", "web.1", "measure#q=4ms source=worker.3", []string{"distribution q 4 ms worker.3"}, 0, false},
		{"legacy measure dot", "app", "web.1", "measure.db=12ms", []string{"distribution db 12 ms web.1"}, 0, false},
		{"legacy measure from app", "app", "web.1", "measure=jobs val=3", []string{"distribution jobs 3  web.1"}, 0, false},
		{"legacy runtime source", "app", "web.1", "source=heroku.2808254.web.1.d97d0ea7-cf3d-411b-b453-d2943a50b456 measure=memory_rss val=21.22 units=MB",
			[]string{"gauge memory_rss 21.22 MB web.1"}, 0, false},
		{"legacy val not a number", "heroku", "web.1", "measure=memory_rss val=lots units=MB", nil, 1, true},
		{"addon falls back to addon=", "app", "heroku-redis", "addon=redis-cubed-1 sample#hit-rate=0.5", []string{"gauge hit-rate 0.5  redis-cubed-1"}, 0, false},
		{"router bad numbers", "heroku", "router", "at=info dyno=web.1 connect=x service=5ms status=abc bytes=12",
			[]string{"counter router.requests 1  web.1", "distribution router.service 5 ms web.1", "distribution router.bytes 12 bytes web.1"}, 2, true},
		{"router odd code", "heroku", "router", "at=error code=H999 dyno= status=503",
			[]string{"counter router.requests 1  ", "counter router.status.5xx 1  ", "counter router.errors.H999 1  "}, 0, false},
		{"new L10 form", "heroku", "logplex", "drain 'd.1234' dropped 17 messages since 2024-01-01T00:00:00Z.",
			[]string{"counter logplex.dropped 17  logplex"}, 0, false},
		{"L10 text from app is not a drop", "app", "web.1", "Error L10 (output buffer overflow): 3 messages dropped since x", nil, 0, false},
		{"free text", "app", "web.1", "hello # world measure", nil, 0, false},
		{"other prefix ignored", "app", "web.1", "foo#bar=1 #=2", nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := drainpipe.Record{App: "a", Time: now, Source: tt.source, Dyno: tt.dyno, Message: tt.msg}
			var got []string
			err := metrics.Extract(r, func(s metrics.Sample) {
				g := fmt.Sprintf("%s %s %g %s %s", s.Kind, s.Name, s.Value, s.Unit, s.Source)
				if s.Str != "" {
					g += " " + s.Str
				}
				got = append(got, g)
				if !s.Time.Equal(now) {
					t.Errorf("sample time %v, want %v", s.Time, now)
				}
			})
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("samples:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			n := 0
			if err != nil {
				n = len(err.(interface{ Unwrap() []error }).Unwrap())
			}
			if n != tt.wantFailures {
				t.Errorf("failures = %d (%v), want %d", n, err, tt.wantFailures)
			}
			if tt.wantErrorIsNN && !errors.Is(err, metrics.ErrNotNumber) {
				t.Errorf("error %v is not ErrNotNumber", err)
			}
		})
	}
}

func TestExtractRouterDoesNotAllocate(t *testing.T) {
	r := fixtureRecords(t)[0]
	n := 0
	allocs := testing.AllocsPerRun(100, func() {
		_ = metrics.Extract(r, func(s metrics.Sample) { n++ })
	})
	if allocs != 0 {
		t.Errorf("Extract allocated %v times per router line, want 0", allocs)
	}
}

func FuzzExtract(f *testing.F) {
	for _, r := range fixtureRecords(f) {
		f.Add(r.Source, r.Dyno, r.Message)
	}
	f.Add("app", "web.1", `measure#x=-1e5ms count#="" unique#u=`)
	f.Fuzz(func(t *testing.T, source, dyno, msg string) {
		r := drainpipe.Record{App: "a", Source: source, Dyno: dyno, Message: msg, Time: time.Unix(0, 0)}
		err := metrics.Extract(r, func(s metrics.Sample) {
			if s.Name == "" || !strings.Contains(msg, s.Name) && !strings.HasPrefix(s.Name, "router.") &&
				!strings.HasPrefix(s.Name, "dyno.errors.") && s.Name != "logplex.dropped" {
				t.Fatalf("sample name %q not from line %q", s.Name, msg)
			}
			if s.Source != dyno && s.Source != "" && !strings.Contains(msg, s.Source) {
				t.Fatalf("source %q neither the dyno %q nor in %q", s.Source, dyno, msg)
			}
			if s.Value != s.Value || s.Value > 1e300 || s.Value < -1e300 {
				t.Fatalf("value %v from %q", s.Value, msg)
			}
		})
		if err != nil {
			var fe *metrics.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a FieldError", err)
			}
		}
	})
}
