package alert_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/alert"
)

var testEnv = map[string]string{"SLACK_HOOK": "T000/B000/XXXX", "PD_KEY": "abcdef0123456789abcdef0123456789", "HOOK_SECRET": "s3cr3t", "SMTP_PASSWORD": "pw", "EMPTY_SET": ""}

func lookupEnv(k string) (string, bool) { v, ok := testEnv[k]; return v, ok }

func TestParseFile(t *testing.T) {
	data, err := os.ReadFile("testdata/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := alert.ParseFile("alerts.yaml", data, lookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 4 {
		t.Fatalf("%d rules", len(rules))
	}
	h12 := rules[0]
	if h12.Name != "h12" || h12.Threshold != 10 || *h12.Recover != 3 || h12.For != 2 || h12.Renotify != time.Hour ||
		!slices.Equal(h12.GroupBy, []string{"dyno"}) || h12.Source != alert.FromFile || h12.Line != 3 ||
		h12.Notify[0] != "slack+https://hooks.slack.com/services/T000/B000/XXXX" || h12.Notify[1] != "pagerduty://abcdef0123456789abcdef0123456789" {
		t.Errorf("h12: %+v", h12)
	}
	if r := rules[1]; r.App != "" || r.Query != "code:H*" || !slices.Equal(r.GroupBy, []string{"app", "code"}) || !strings.HasSuffix(r.Notify[0], "#secret=s3cr3t") {
		t.Errorf("router-errors: %+v", r)
	}
	if r := rules[2]; r.Kind != alert.Absence || r.Query != `"export finished"` || r.Window != 24*time.Hour ||
		len(r.Mute.Daily) != 1 || r.Mute.Location != "Europe/Paris" {
		t.Errorf("nightly-export: %+v", r)
	}
	if r := rules[3]; r.Kind != alert.Metric || r.Agg != "p95" || !slices.Equal(r.GroupBy, []string{"source"}) {
		t.Errorf("slow: %+v", r)
	}
}

// TestParseFileErrors: every mistake of a file is reported, each with its line.
func TestParseFileErrors(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) < 5 {
		t.Fatalf("%d bad files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, _ := os.ReadFile(f)
			want, err := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".err")
			if err != nil {
				t.Fatal(err)
			}
			rules, err := alert.ParseFile("alerts.yaml", data, lookupEnv)
			if err == nil {
				t.Fatalf("no error; rules %+v", rules)
			}
			if got := err.Error() + "\n"; got != string(want) {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
			var le *alert.LineError
			if !strings.HasPrefix(string(want), "alerts.yaml: yaml:") && !errors.As(err, &le) {
				t.Errorf("no *LineError in %v", err)
			}
		})
	}
}

func FuzzParseFile(f *testing.F) {
	for _, name := range []string{"testdata/alerts.yaml", "testdata/bad/many.yaml", "testdata/bad/toplevel.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("rules: []"))
	f.Add([]byte("rules:\n  - {name: a, query: x, notify: [t], mute: {until: 2026-01-01T00:00:00Z}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := alert.ParseFile("f.yaml", data, lookupEnv)
		if err != nil {
			return
		}
		for _, r := range rules {
			again := r
			if err := again.Normalize(); err != nil {
				t.Fatalf("a rule the file accepted does not normalize again: %+v: %v", r, err)
			}
		}
	})
}
