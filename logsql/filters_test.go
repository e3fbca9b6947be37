package logsql_test

import (
	"errors"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/logsql"
)

func TestSearchQuery(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	since := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	until := time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		s    logsql.Search
		want string
	}{
		{"everything", logsql.Search{}, `*`},
		{"app", logsql.Search{App: "myapp"}, `app:=myapp`},
		{"app and text", logsql.Search{App: "myapp", Text: "H12 OR R14"}, `app:=myapp (H12 or R14)`},
		{"source", logsql.Search{App: "myapp", Source: "heroku"}, `app:=myapp source:=heroku`},
		{"source in another case", logsql.Search{App: "myapp", Source: "Heroku"}, `app:=myapp source:=heroku`},
		{"source APP", logsql.Search{App: "myapp", Source: "APP"}, `app:=myapp source:=app`},
		{"a log-shuttle source", logsql.Search{App: "myapp", Source: "Shuttle"}, `app:=myapp source:=Shuttle`},
		{"one dyno", logsql.Search{App: "myapp", Dyno: "web.1"}, `app:=myapp dyno:="web.1"`},
		{"a process type", logsql.Search{App: "myapp", Dyno: "web"}, `app:=myapp (dyno:=web or dyno:="web."*)`},
		{"since", logsql.Search{App: "a", Since: since}, `_time:[2026-11-28T10:00:00.000000000Z,2262-04-11T23:47:16.854775807Z] app:=a`},
		{"until", logsql.Search{App: "a", Until: until}, `_time:[1677-09-21T00:12:43.145224192Z,2026-11-28T10:59:59.999999999Z] app:=a`},
		{"both", logsql.Search{App: "a", Since: since, Until: until}, `_time:[2026-11-28T10:00:00.000000000Z,2026-11-28T10:59:59.999999999Z] app:=a`},
		{"pipes keep the filters", logsql.Search{App: "a", Dyno: "web.1", Text: "status=503 | stats count()"},
			`app:=a dyno:="web.1" (status:=503 or "status=503") | stats count(*) as "count(*)"`},
		{"an app name that needs quoting", logsql.Search{App: `my"app`}, `app:="my\"app"`},
	}
	for _, tt := range tests {
		q, err := tt.s.Query(now)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := q.String(); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func TestSearchQueryBad(t *testing.T) {
	_, err := logsql.Search{App: "a", Text: `"open`}.Query(time.Now())
	if !errors.Is(err, logsql.ErrBadQuery) {
		t.Fatalf("got %v, want ErrBadQuery", err)
	}
}
