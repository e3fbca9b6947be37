package logsql_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe/logsql"
)

func TestTranslate(t *testing.T) {
	tests := []struct {
		typed, want string
	}{
		// The words Heroku users type.
		{`web.1`, `(dyno:="web.1" OR "web.1")`},
		{`worker.12`, `(dyno:="worker.12" OR "worker.12")`},
		{`run.1234`, `(dyno:="run.1234" OR "run.1234")`},
		{`router`, `(dyno:="router" OR "router")`},
		{`app[web.1]`, `(source:="app" dyno:="web.1")`},
		{`heroku[router]:`, `(source:="heroku" dyno:="router")`},
		{`status=503`, `(status:="503" OR "status=503")`},
		{`code=H12`, `(code:="H12" OR "code=H12")`},
		{`status=5xx`, `status:range[500, 600)`},
		{`status=4XX`, `status:range[400, 500)`},
		{`status>=500`, `status:>="500"`},
		{`status<400`, `status:<"400"`},
		{`connect>10ms`, `connect:>"10ms"`},
		{`bytes<=1KB`, `bytes:<="1KB"`},
		{`status!=200`, `NOT (status:="200" OR "status=200")`},
		{`path=/api*`, `(path:="/api"* OR "path=/api"*)`},
		{`service=*`, `service:*`},
		{`desc="Request timeout"`, `(desc:="Request timeout" OR "desc=\"Request timeout\"")`},
		{`x='y'`, `(x:="y" OR "x='y'")`},
		{`fwd="1.2.3.4"`, `(fwd:="1.2.3.4" OR "fwd=\"1.2.3.4\"")`},
		{`sample#memory_rss=12MB`, `("sample#memory_rss":="12MB" OR "sample#memory_rss=12MB")`},
		{`measure#db.query<3ms`, `"measure#db.query":<"3ms"`},
		{`in=5`, `("in":="5" OR "in=5")`},
		{`/slow`, `/slow`},
		{`"Request timeout"`, `"Request timeout"`},
		{`H12 OR R14`, `H12 OR R14`},
		{`h12 or r14`, `h12 OR r14`},
		{`myapp web.1`, `myapp (dyno:="web.1" OR "web.1")`},
		{`status=200 method=GET path=/`, `(status:="200" OR "status=200") (method:="GET" OR "method=GET") (path:="/" OR "path=/")`},
		{`GET /api/v1/users?x=1`, `GET "/api/v1/users?x=1"`},
		// Operators, negation and grouping are kept.
		{`NOT web.1`, `NOT (dyno:="web.1" OR "web.1")`},
		{`-web.1`, `NOT (dyno:="web.1" OR "web.1")`},
		{`!web.1`, `NOT (dyno:="web.1" OR "web.1")`},
		{`a - b`, `a NOT b`},
		{`a AND NOT b`, `a AND NOT b`},
		{`(web.1 OR web.2) H12`, `((dyno:="web.1" OR "web.1") OR (dyno:="web.2" OR "web.2")) H12`},
		{`!(a b)`, `NOT (a b)`},
		// Text LogsQL would refuse, or read as a field filter, is a phrase.
		{`user@example.com`, `"user@example.com"`},
		{`https://x.io/a`, `"https://x.io/a"`},
		{`10:00:00`, `"10:00:00"`},
		{`127.0.0.1:8080`, `"127.0.0.1:8080"`},
		{`ERROR:`, `"ERROR:"`},
		{`foo#bar`, `"foo#bar"`},
		{`#tag`, `"#tag"`},
		{`100%`, `"100%"`},
		{`a;b`, `"a;b"`},
		{`don't`, `"don't"`},
		{`é"x`, `"é\"x"`},
		{`x=`, `"x="`},
		{`_time=5`, `"_time=5"`},
		// Valid LogsQL passes through.
		{``, `*`},
		{`   `, `*`},
		{`*`, `*`},
		{`héllo`, `héllo`},
		{`status:503`, `status:503`},
		{`_time:1h`, `_time:1h`},
		{`{app="x"}`, `{app="x"}`},
		{`i(timeout)`, `i(timeout)`},
		{`in(H12,H13)`, `in(H12,H13)`},
		{`error*`, `error*`},
		{`path:~"^/api"`, `path:~"^/api"`},
		{`x:(a OR b)`, `x:(a OR b)`},
		{`status:range[500, 600)`, `status:range[500, 600)`},
		{`=x`, `=x`},
		{`!=foo`, `!=foo`},
		{`"web.1"`, `"web.1"`},
		{`error | stats count()`, `error | stats count()`},
		{`web.1 | stats by (status) count()`, `(dyno:="web.1" OR "web.1") | stats by (status) count()`},
		{`options(concurrency=2) error`, `options(concurrency=2) error`},
		// The archive's own examples (README, The archive) stay what they are.
		{`i(h12) OR R14`, `i(h12) OR R14`},
		{`status:=503 method:=POST`, `status:=503 method:=POST`},
		{`path:="/api/"* bytes:>100000`, `path:="/api/"* bytes:>100000`},
		{`dyno:=web.1 -"GET /healthz"`, `dyno:=web.1 NOT "GET /healthz"`},
		{`"measure#db.query":*`, `"measure#db.query":*`},
		{`_time:1h dyno:="web.1"`, `_time:1h dyno:="web.1"`},
		{`status:=503 path:="/slow"*`, `status:=503 path:="/slow"*`},
	}
	for _, tt := range tests {
		got, err := logsql.Translate(tt.typed)
		if err != nil {
			t.Errorf("Translate(%q): %v", tt.typed, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Translate(%q)\n got %s\nwant %s", tt.typed, got, tt.want)
		}
		if _, err := logstorage.ParseQuery(got); err != nil {
			t.Errorf("Translate(%q) = %s, which LogsQL refuses: %v", tt.typed, got, err)
		}
		if again, err := logsql.Translate(got); err != nil || again != got {
			t.Errorf("Translate(%q) = %s is not kept as it is: %s, %v", tt.typed, got, again, err)
		}
	}
}

func TestTranslateErrors(t *testing.T) {
	tests := []struct {
		typed, want string
	}{
		{`(a`, `a ( is not closed`},
		{`a)`, `a ) closes nothing`},
		{`()`, `nothing between ( and )`},
		{`"Request timeout`, `a quote is not closed`},
		{`desc="Request timeout`, `a quote is not closed`},
		{`status:range[500, 600`, `a bracket is not closed`},
		{`(a | stats count()`, `a ( is not closed before the |`},
		{`a AND`, `unexpected end of query after "AND"`},
		{`a OR`, `unexpected end of query after "OR"`},
		{`NOT`, `unexpected end of query after "NOT"`},
		{`a | b`, `unexpected pipe name "b"`},
	}
	for _, tt := range tests {
		got, err := logsql.Translate(tt.typed)
		if err == nil {
			t.Errorf("Translate(%q) = %s, want an error", tt.typed, got)
			continue
		}
		if !errors.Is(err, logsql.ErrBadQuery) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Translate(%q): %v, want ErrBadQuery saying %q", tt.typed, err, tt.want)
		}
	}
}
