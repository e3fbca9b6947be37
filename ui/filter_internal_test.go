package ui

import (
	"testing"

	"github.com/drainpipe/drainpipe/api"
)

func TestLineFilter(t *testing.T) {
	router := api.Line{Source: "heroku", Dyno: "router", Message: `at=error code=H12 desc="Request timeout" dyno=web.1 status=503`}
	web1 := api.Line{Source: "app", Dyno: "web.1", Message: "Completed 200 OK in 12ms"}
	web12 := api.Line{Source: "app", Dyno: "web.12", Message: "Started GET /cart"}
	worker := api.Line{Source: "app", Dyno: "worker.1", Message: "job done"}
	all := []api.Line{router, web1, web12, worker}
	for _, tc := range []struct {
		source, dyno, q string
		want            []string // the messages kept
	}{
		{"", "", "", []string{router.Message, web1.Message, web12.Message, worker.Message}},
		{"app", "", "", []string{web1.Message, web12.Message, worker.Message}},
		{"", "web", "", []string{web1.Message, web12.Message}},
		{"", "web.1", "", []string{web1.Message}},
		{"", "", "h12", []string{router.Message}},
		{"", "", `"request timeout" 503`, []string{router.Message}},
		{"", "", `"request 503"`, nil},
		{"app", "", "-started -job", []string{web1.Message}},
		{"", "", `-"Request timeout"`, []string{web1.Message, web12.Message, worker.Message}},
		{"heroku", "web", "", nil},
	} {
		f := newLineFilter(tc.source, tc.dyno, tc.q)
		var got []string
		for i := range all {
			if f.match(&all[i]) {
				got = append(got, all[i].Message)
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("source %q dyno %q q %q: kept %q, want %q", tc.source, tc.dyno, tc.q, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("source %q dyno %q q %q: kept %q, want %q", tc.source, tc.dyno, tc.q, got, tc.want)
				break
			}
		}
	}
}

func FuzzSplitWords(f *testing.F) {
	for _, s := range []string{`a "b c" -d -"e f"`, `"`, `-"`, `""`, ` - `, `"unterminated`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		for _, w := range splitWords(q) {
			if w == "" {
				t.Fatalf("an empty word from %q", q)
			}
		}
	})
}
