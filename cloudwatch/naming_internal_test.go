package cloudwatch

import (
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
)

func TestTemplateExpand(t *testing.T) {
	t.Parallel()
	r := drainpipe.Record{App: "myapp", Drain: "d_1", Source: "heroku", Dyno: "router",
		Time: time.Date(2026, 11, 22, 23, 59, 0, 0, time.FixedZone("x", -3600))}
	tests := []struct{ tmpl, want string }{
		{"/heroku/{app}", "/heroku/myapp"},
		{"{date}", "2026-11-23"}, // the UTC date, not the line's zone's
		{"{app}/{drain}/{source}/{dyno}/{date}", "myapp/d_1/heroku/router/2026-11-23"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		tm, err := parseTemplate(tt.tmpl)
		if err != nil {
			t.Fatalf("%q: %v", tt.tmpl, err)
		}
		if got := tm.expand(&r); got != tt.want {
			t.Errorf("%q expands to %q, want %q", tt.tmpl, got, tt.want)
		}
	}
	if got := parseTemplateLenient("/x/{nope}").expand(&r); got != "/x/{nope}" {
		t.Errorf("lenient override expands to %q", got)
	}
}

// FuzzParseTemplate: a template either parses or says why; one that parses expands
// without placeholders left, and its literal text is kept.
func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{DefaultGroupTemplate, DefaultStreamTemplate, "{app}{dyno}", "{", "}", "{}", "{{app}}", "/a/{source}-{date}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := parseTemplate(s)
		if err != nil {
			if tm != nil {
				t.Fatal("template with an error")
			}
			return
		}
		r := drainpipe.Record{App: "A", Drain: "D", Source: "S", Dyno: "Y", Time: time.Unix(0, 0)}
		got := tm.expand(&r)
		lit := 0
		for _, p := range tm {
			if p.value == nil {
				lit += len(p.literal)
				if !strings.Contains(got, p.literal) {
					t.Fatalf("literal %q lost from %q", p.literal, got)
				}
			}
		}
		if lit > len(got) {
			t.Fatalf("%q expands to %q", s, got)
		}
		if g := GroupName(got); g == "" {
			t.Fatal("empty group name")
		}
	})
}
