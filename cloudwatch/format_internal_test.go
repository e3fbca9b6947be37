package cloudwatch

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/internal/testfixtures"
	"github.com/drainpipe/drainpipe/logplex"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixtureRecords parses a logplex fixture as the receiver would.
func fixtureRecords(t testing.TB, name string) []drainpipe.Record {
	t.Helper()
	body := testfixtures.Read(t, name)
	recs, _ := logplex.AppendRecords(nil, body, logplex.Options{Received: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)})
	for i := range recs {
		recs[i].App, recs[i].Drain = "cryptic-cliffs-27764", "d_1"
	}
	return recs
}

// TestFormatGolden formats every line of the realistic drain fixture in both
// formats and compares with testdata (go test -run Golden -update rewrites it).
func TestFormatGolden(t *testing.T) {
	t.Parallel()
	recs := fixtureRecords(t, "heroku-drain-realistic.logplex")
	for _, tt := range []struct {
		name   string
		format formatter
	}{{"text", formatText}, {"json", formatJSON}} {
		t.Run(tt.name, func(t *testing.T) {
			var got bytes.Buffer
			for i := range recs {
				for _, m := range tt.format(&recs[i], maxEventBytes) {
					fmt.Fprintf(&got, "%s\n", m)
				}
			}
			golden := filepath.Join("testdata", "format-"+tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("format %s differs from %s; run with -update and review the diff", tt.name, golden)
			}
		})
	}
}

func TestFormatText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rec  drainpipe.Record
		max  int
		want []string
	}{
		{"app line", drainpipe.Record{Source: "app", Dyno: "web.1", Message: "hello"}, 100, []string{"app[web.1]: hello"}},
		{"no dyno", drainpipe.Record{Source: "heroku", Message: "x"}, 100, []string{"heroku: x"}},
		{"malformed raw frame", drainpipe.Record{Malformed: true, Message: "garbage"}, 100, []string{"garbage"}},
		{"empty message keeps prefix", drainpipe.Record{Source: "app", Dyno: "web.1"}, 100, []string{"app[web.1]: "}},
		{"nothing at all", drainpipe.Record{}, 100, []string{"-"}},
		{"invalid UTF-8 made valid", drainpipe.Record{Source: "app", Dyno: "w", Message: "a\xffb"}, 100, []string{"app[w]: a\uFFFDb"}},
		{"split with prefix on every part", drainpipe.Record{Source: "app", Dyno: "w", Message: "abcdefghij"}, 16, []string{"app[w]: abcdefgh", "app[w]: ij"}},
		{"header too long to repeat", drainpipe.Record{Source: "app", Dyno: "w", Message: "abcdefghij"}, 12, []string{"abcdefghij"}},
		{"split on a character boundary", drainpipe.Record{Message: "ééé"}, 5, []string{"éé", "é"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := formatText(&tt.rec, tt.max)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

type jsonEvent struct {
	Time      time.Time         `json:"time"`
	App       string            `json:"app"`
	Drain     string            `json:"drain"`
	Source    string            `json:"source"`
	Dyno      string            `json:"dyno"`
	Malformed bool              `json:"malformed"`
	Message   string            `json:"message"`
	Part      int               `json:"part"`
	Parts     int               `json:"parts"`
	Fields    map[string]string `json:"fields"`
}

func TestFormatJSON(t *testing.T) {
	t.Parallel()
	ts := time.Date(2026, 11, 22, 10, 1, 2, 345678000, time.UTC)
	rec := drainpipe.Record{App: "a", Drain: "d", Time: ts, Source: "heroku", Dyno: "router",
		Message: `at=info method=GET path="/x y" status=200 dyno=web.1 status=500 bare connect= <tag>&`}
	got := formatJSON(&rec, maxEventBytes)
	if len(got) != 1 {
		t.Fatalf("%d events", len(got))
	}
	var ev jsonEvent
	if err := json.Unmarshal([]byte(got[0]), &ev); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"at": "info", "method": "GET", "path": "/x y", "status": "200", "dyno": "web.1", "<tag>&": ""}
	delete(want, "<tag>&")
	if !ev.Time.Equal(ts) || ev.App != "a" || ev.Drain != "d" || ev.Source != "heroku" || ev.Dyno != "router" || ev.Message != rec.Message {
		t.Errorf("header fields: %+v", ev)
	}
	if fmt.Sprint(ev.Fields) != fmt.Sprint(want) {
		t.Errorf("fields %v, want %v", ev.Fields, want)
	}
	if strings.Contains(got[0], `\u003c`) {
		t.Errorf("HTML escaped: %s", got[0])
	}
}

// TestFormatJSONSplit: a line longer than an event becomes several objects whose
// messages join to the line, escaping included.
func TestFormatJSONSplit(t *testing.T) {
	t.Parallel()
	msg := strings.Repeat("é\"\x01x", 300)
	rec := drainpipe.Record{App: "a", Source: "app", Dyno: "web.1", Message: msg, Time: time.Unix(1, 0)}
	got := formatJSON(&rec, 1000)
	if len(got) < 2 {
		t.Fatalf("%d events, want several", len(got))
	}
	var joined strings.Builder
	for i, g := range got {
		if len(g) > 1000 {
			t.Errorf("event %d: %d bytes", i, len(g))
		}
		var ev jsonEvent
		if err := json.Unmarshal([]byte(g), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Part != i+1 || ev.Parts != len(got) {
			t.Errorf("event %d: part %d of %d", i, ev.Part, ev.Parts)
		}
		joined.WriteString(ev.Message)
	}
	if joined.String() != msg {
		t.Error("parts do not join to the message")
	}
}

// FuzzFormat: whatever the record, events are non-empty valid UTF-8 within the
// limit, JSON ones are valid JSON, and nothing of the message is lost.
func FuzzFormat(f *testing.F) {
	for _, r := range fixtureRecords(f, "heroku-drain-realistic.logplex") {
		f.Add(r.Source, r.Dyno, r.Message, 200)
	}
	f.Add("app", "web.1", "\xff\xfe\u2028\"\\\x00", 16)
	f.Add("", "", "", 8)
	f.Fuzz(func(t *testing.T, source, dyno, msg string, max int) {
		max = 64 + abs(max)%4096
		rec := drainpipe.Record{Source: source, Dyno: dyno, Message: msg, Time: time.Unix(0, 0)}
		var text strings.Builder
		prefix := textPrefix(&rec)
		for _, m := range formatText(&rec, max) {
			checkEvent(t, m, max)
			text.WriteString(strings.TrimPrefix(m, prefix))
		}
		valid := strings.ToValidUTF8(msg, "\uFFFD")
		if got := text.String(); got != valid && !(valid == "" && got == "-") && len(prefix) <= max/2 {
			t.Errorf("text parts join to %q, want %q", got, valid)
		}
		maxJSON := 8192 + max
		for _, m := range formatJSON(&rec, maxJSON) {
			checkEvent(t, m, maxJSON)
			if !json.Valid([]byte(m)) {
				t.Fatalf("invalid JSON %q", m)
			}
		}
	})
}

func checkEvent(t *testing.T, m string, max int) {
	t.Helper()
	if m == "" || len(m) > max || !utf8.ValidString(m) {
		t.Fatalf("bad event %q (%d bytes, max %d)", m, len(m), max)
	}
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}
