package alert_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/alert"
)

func TestNormalize(t *testing.T) {
	dest := []string{"test://ops"}
	for _, tc := range []struct {
		name string
		rule alert.Rule
		err  string // a part of the error; "" for a valid rule
		want func(alert.Rule) bool
	}{
		{"defaults", alert.Rule{Name: "a", Query: "H12", Notify: dest}, "", func(r alert.Rule) bool {
			return r.Kind == alert.Match && r.Window == time.Minute && r.For == 1 && r.Threshold == 1
		}},
		{"every app", alert.Rule{Name: "a", App: "*", Query: "H12", Notify: dest}, "", func(r alert.Rule) bool { return r.App == "" }},
		{"preset", alert.Rule{Name: "a", Preset: "router-errors", Notify: dest}, "", func(r alert.Rule) bool {
			return r.Query == "code:H*" && r.Threshold == 10 && slices.Equal(r.GroupBy, []string{"code"})
		}},
		{"preset with own threshold and groups", alert.Rule{Name: "a", Preset: "router-errors", Threshold: 3, GroupBy: []string{"dyno"}, Notify: dest}, "", func(r alert.Rule) bool {
			return r.Threshold == 3 && slices.Equal(r.GroupBy, []string{"dyno"})
		}},
		{"absence", alert.Rule{Name: "a", Kind: alert.Absence, Query: "heartbeat", Notify: dest}, "", func(r alert.Rule) bool { return r.Below && r.Threshold == 0 }},
		{"metric implied", alert.Rule{Name: "a", Metric: "router.service", Agg: "p95", Threshold: 2000, GroupBy: []string{"dyno"}, Notify: dest}, "", func(r alert.Rule) bool {
			return r.Kind == alert.Metric && slices.Equal(r.GroupBy, []string{"source"})
		}},
		{"ratio", alert.Rule{Name: "a", Metric: "memory_rss/memory_quota", Agg: "max", Threshold: 0.9, Notify: dest}, "", nil},
		{"below with recover", alert.Rule{Name: "a", Query: "x", Below: true, Threshold: 5, Recover: ptr(8.0), Notify: dest}, "", nil},

		{"bad name", alert.Rule{Name: "a b", Query: "x", Notify: dest}, "name", nil},
		{"long name", alert.Rule{Name: strings.Repeat("a", 65), Query: "x", Notify: dest}, "name", nil},
		{"no query", alert.Rule{Name: "a", Notify: dest}, "query", nil},
		{"no destination", alert.Rule{Name: "a", Query: "x"}, "notify", nil},
		{"too many destinations", alert.Rule{Name: "a", Query: "x", Notify: slices.Repeat(dest, 11)}, "notify", nil},
		{"unknown preset", alert.Rule{Name: "a", Preset: "nope", Notify: dest}, "preset", nil},
		{"preset and query", alert.Rule{Name: "a", Preset: "crashes", Query: "x", Notify: dest}, "preset", nil},
		{"unknown kind", alert.Rule{Name: "a", Kind: "rate", Query: "x", Notify: dest}, "kind", nil},
		{"metric without agg", alert.Rule{Name: "a", Metric: "router.service", Notify: dest}, "agg", nil},
		{"metric bad agg", alert.Rule{Name: "a", Metric: "router.service", Agg: "p90", Notify: dest}, "agg", nil},
		{"metric with query", alert.Rule{Name: "a", Kind: alert.Metric, Metric: "m", Agg: "max", Query: "x", Notify: dest}, "query", nil},
		{"bad ratio", alert.Rule{Name: "a", Metric: "a/b/c", Agg: "max", Notify: dest}, "metric", nil},
		{"metric groups by a field", alert.Rule{Name: "a", Metric: "m", Agg: "max", GroupBy: []string{"code"}, Notify: dest}, "group_by", nil},
		{"window too short", alert.Rule{Name: "a", Query: "x", Window: 500 * time.Millisecond, Notify: dest}, "window", nil},
		{"window not whole seconds", alert.Rule{Name: "a", Query: "x", Window: 1500 * time.Millisecond, Notify: dest}, "window", nil},
		{"window too long", alert.Rule{Name: "a", Query: "x", Window: 48 * time.Hour, Notify: dest}, "window", nil},
		{"for too long", alert.Rule{Name: "a", Query: "x", For: 1001, Notify: dest}, "for", nil},
		{"renotify under the window", alert.Rule{Name: "a", Query: "x", Window: time.Hour, Renotify: time.Minute, Notify: dest}, "renotify", nil},
		{"fractional count", alert.Rule{Name: "a", Query: "x", Threshold: 2.5, Notify: dest}, "threshold", nil},
		{"absence threshold", alert.Rule{Name: "a", Kind: alert.Absence, Query: "x", Threshold: 3, Notify: dest}, "threshold", nil},
		{"recover above threshold", alert.Rule{Name: "a", Query: "x", Threshold: 5, Recover: ptr(6.0), Notify: dest}, "recover", nil},
		{"below recover under threshold", alert.Rule{Name: "a", Query: "x", Below: true, Threshold: 5, Recover: ptr(4.0), Notify: dest}, "recover", nil},
		{"too many groups", alert.Rule{Name: "a", Query: "x", GroupBy: []string{"a", "b", "c", "d", "e", "f"}, Notify: dest}, "group_by", nil},
		{"group twice", alert.Rule{Name: "a", Query: "x", GroupBy: []string{"dyno", "dyno"}, Notify: dest}, "group_by", nil},
		{"bad group field", alert.Rule{Name: "a", Query: "x", GroupBy: []string{"a b"}, Notify: dest}, "group_by", nil},
		{"bad time zone", alert.Rule{Name: "a", Query: "x", Mute: alert.Mute{Location: "Mars/Olympus"}, Notify: dest}, "mute", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.rule
			err := r.Normalize()
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.err != "" && (err == nil || !errors.Is(err, alert.ErrInvalid) || !strings.Contains(err.Error(), ": "+tc.err)):
				t.Fatalf("error %v, want ErrInvalid about %s", err, tc.err)
			case tc.want != nil && !tc.want(r):
				t.Errorf("normalized to %+v", r)
			}
		})
	}
}

func TestPresetsAreValidRules(t *testing.T) {
	codes := map[string]bool{}
	for _, p := range alert.Presets {
		r := alert.Rule{Name: "p", Preset: p.Name, Notify: []string{"test://x"}}
		if err := r.Normalize(); err != nil {
			t.Errorf("preset %s: %v", p.Name, err)
		}
		for _, w := range strings.FieldsFunc(p.Query, func(c rune) bool { return c == ' ' || c == '"' }) {
			codes[w] = true
		}
	}
	// What the issue asks for: router H codes, R14/R15, R10, crashes, L10-L13.
	for _, w := range []string{"code:H*", "R14", "R15", "R10", "crashed", "L10", "L11", "L12", "L13"} {
		if !codes[w] {
			t.Errorf("no preset watches %s", w)
		}
	}
}

func TestDailyRangeParse(t *testing.T) {
	for _, bad := range []string{"", "22:00", "25:00-01:00", "10:00-10:00", "a-b", "22:00-6"} {
		if _, err := alert.ParseDailyRange(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	r, err := alert.ParseDailyRange(" 9:30-17:00 ")
	if err != nil || r.String() != "09:30-17:00" {
		t.Errorf("9:30-17:00: %v %v", r, err)
	}
}

func FuzzParseDailyRange(f *testing.F) {
	for _, s := range []string{"22:00-06:00", "09:30-17:00", "", "-", "24:00-00:00", "1:2-3:4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := alert.ParseDailyRange(s)
		if err != nil {
			return
		}
		again, err := alert.ParseDailyRange(r.String())
		if err != nil || again != r {
			t.Fatalf("%q → %v → %v, %v", s, r, again, err)
		}
	})
}
