package logplex_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/internal/testfixtures"
	"github.com/drainpipe/drainpipe/logplex"
	"github.com/drainpipe/drainpipe/rfc5424"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// received is the receive time stamped on every record in the tests.
var received = time.Date(2026, 11, 22, 4, 0, 0, 123456000, time.UTC)

// golden is what a golden file holds for one fixture body.
type golden struct {
	Options logplex.Options
	Stats   logplex.Stats
	Records []drainpipe.Record
}

// fixtureBodies returns every request body among the fixtures (internal/testfixtures),
// by fixture name.
func fixtureBodies(t testing.TB) map[string][]byte {
	t.Helper()
	bodies := map[string][]byte{}
	names := append(testfixtures.Glob(t, "*.logplex"), testfixtures.Glob(t, "edge-cases/*.logplex")...)
	names = append(names, "log-shuttle/req1.body.bin", "log-shuttle/req3.body.bin")
	for _, name := range names {
		bodies[name] = testfixtures.Read(t, name)
	}
	bodies["log-shuttle/req2.body"] = gunzip(t, testfixtures.Read(t, "log-shuttle/req2.body.bin"))
	// The README's example is a whole HTTP request: its body follows the blank line.
	req := testfixtures.Read(t, "logplex-readme-example.http")
	_, body, ok := bytes.Cut(req, []byte("\r\n\r\n"))
	if !ok {
		t.Fatal("logplex-readme-example.http: no end of headers")
	}
	bodies["logplex-readme-example.body"] = body
	return bodies
}

// optionsFor says how each fixture's sender writes messages. Bodies from log-shuttle
// (its own captures, heroku/x's test-suite, and the edge cases built from log-shuttle
// frames, whose hostname is "shuttle") carry "- -"; the rest are HTTPS logplex.
func optionsFor(name string) logplex.Options {
	base := filepath.Base(name)
	sd := strings.HasPrefix(name, "log-shuttle/") || strings.HasPrefix(base, "heroku-x-") ||
		base == "leading-zero-count.logplex" || base == "nul-and-control-bytes.logplex" ||
		base == "oversized-frame-10101.logplex"
	return logplex.Options{Received: received, StructuredData: sd}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	bodies := fixtureBodies(t)
	if len(bodies) < 31 {
		t.Fatalf("found %d fixture bodies, want every one of the 31", len(bodies))
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opt := optionsFor(name)
			recs, st := logplex.AppendRecords(nil, body, opt)
			got, err := json.MarshalIndent(golden{opt, st, recs}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", strings.ReplaceAll(name, "/", "__")+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := readFile(t, path)
			if !bytes.Equal(got, want) {
				t.Errorf("records of %s differ from %s (rerun with -update after checking):\n%s", name, path, got)
			}
		})
	}
}

// TestRealisticLines checks the realistic body against its unframed copy, one message
// per line: the framing must find exactly those 38 messages.
func TestRealisticLines(t *testing.T) {
	t.Parallel()
	opt := logplex.Options{Received: received}
	recs, st := logplex.AppendRecords(nil, testfixtures.Read(t, "heroku-drain-realistic.logplex"), opt)
	lines := strings.Split(strings.TrimSuffix(string(testfixtures.Read(t, "heroku-drain-realistic.lines.txt")), "\n"), "\n")
	if len(lines) != 38 || len(recs) != 38 {
		t.Fatalf("got %d records and %d lines, want 38 of each", len(recs), len(lines))
	}
	if st.Malformed != 0 || st.Frames != 38 {
		t.Errorf("stats %+v, want 38 frames and none malformed", st)
	}
	for i, line := range lines {
		want, ok := rfc5424.Parse(line, opt)
		if !ok {
			t.Fatalf("line %d does not parse: %q", i+1, line)
		}
		if !recordsEqual(recs[i], want) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i+1, recs[i], want)
		}
		if !strings.HasSuffix(line, " "+recs[i].Message) {
			t.Errorf("record %d: message %q is not the end of line %q", i+1, recs[i].Message, line)
		}
	}
}

func recordsEqual(a, b drainpipe.Record) bool {
	ta, tb := a.Time, b.Time
	a.Time, b.Time = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b) && ta.Equal(tb)
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
