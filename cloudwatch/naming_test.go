package cloudwatch_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/drainpipe/drainpipe/cloudwatch"
)

var groupRE = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`)

func TestGroupName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"/heroku/cryptic-cliffs-27764", "/heroku/cryptic-cliffs-27764"},
		{"/heroku/app name:é*", "/heroku/app_name___"},
		{"aws/lambda", "_aws/lambda"},
		{"", "_"},
		{"#a.b_c-d", "#a.b_c-d"},
		{strings.Repeat("g", 600), strings.Repeat("g", 512)},
	}
	for _, tt := range tests {
		if got := cloudwatch.GroupName(tt.in); got != tt.want {
			t.Errorf("GroupName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStreamName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"2026-11-22", "2026-11-22"},
		{"web.1:x*y", "web.1_x_y"},
		{"", "_"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{"héllo wörld/ok", "héllo wörld/ok"},
		{strings.Repeat("é", 300), strings.Repeat("é", 256)},
	}
	for _, tt := range tests {
		if got := cloudwatch.StreamName(tt.in); got != tt.want {
			t.Errorf("StreamName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzNames: any input becomes a name CloudWatch accepts.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"/heroku/app", "aws/x", "", "a:b*c", "\xff", strings.Repeat("é", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if g := cloudwatch.GroupName(s); !groupRE.MatchString(g) || strings.HasPrefix(g, "aws/") {
			t.Errorf("GroupName(%q) = %q", s, g)
		}
		st := cloudwatch.StreamName(s)
		if st == "" || len(st) > 512 || strings.ContainsAny(st, ":*") || !utf8.ValidString(st) {
			t.Errorf("StreamName(%q) = %q", s, st)
		}
	})
}
