package httpd

import (
	"testing"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
)

func TestExtraFilter(t *testing.T) {
	for _, tt := range []struct {
		in     string
		stream bool
		want   string
	}{
		{`{"dyno":"web.1"}`, false, `dyno:="web.1"`},
		{`{"dyno":["web.1","web.2"],"source":"app"}`, false, `dyno:in("web.1","web.2") source:=app`},
		{`{"source":"heroku"}`, true, `{source="heroku"}`},
		{`{"app":["a.b","c|d"]}`, true, `{app=~"a\\.b|c\\|d"}`},
		{`status:503`, false, `status:503`},
	} {
		f, err := extraFilter(tt.in, tt.stream)
		got := ""
		if f != nil {
			got = f.String()
		}
		if err != nil || got != tt.want {
			t.Errorf("extraFilter(%s, stream %v) = %s, %v; want %s", tt.in, tt.stream, got, err, tt.want)
		}
	}
	for _, bad := range []string{`{"dyno":[]}`, `{"dyno":5}`, `{"dyno":[1]}`, `{"dyno"`, `status:`} {
		if f, err := extraFilter(bad, false); err == nil {
			t.Errorf("extraFilter(%s) = %v, want an error", bad, f)
		}
	}
}

// FuzzExtraFilter: an extra filter from a stranger never panics the server, and
// one that is taken is LogsQL that parses again.
func FuzzExtraFilter(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string, stream bool) {
		flt, err := extraFilter(s, stream)
		if err != nil || flt == nil {
			return
		}
		if _, err := logstorage.ParseFilter(flt.String()); err != nil {
			t.Fatalf("extraFilter(%q) = %s, which does not parse: %v", s, flt, err)
		}
	})
}
