package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/api"
)

// request is what the fake server saw of one call.
type request struct {
	method, path, query, auth, body string
}

// fakeServer answers the admin API's calls with canned answers and records them.
type fakeServer struct {
	mu     sync.Mutex
	seen   []request
	answer func(r *http.Request) (int, string)
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.seen = append(f.seen, request{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), string(body)})
	answer := f.answer
	f.mu.Unlock()
	code, text := answer(r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(text))
}

func (f *fakeServer) last() request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[len(f.seen)-1]
}

func newClient(t *testing.T, answer func(r *http.Request) (int, string)) (*api.Client, *fakeServer) {
	t.Helper()
	f := &fakeServer{answer: answer}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return api.NewClient(srv.URL+"/", "tok"), f
}

func TestClientCalls(t *testing.T) {
	t.Parallel()
	c, f := newClient(t, func(r *http.Request) (int, string) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/tail"), strings.HasSuffix(r.URL.Path, "/lines"):
			return 200, `{"lines": [{"id": 7, "app": "my-app", "message": "hi", "time": "2026-11-22T10:00:00Z"}], "after": 8}`
		case strings.HasSuffix(r.URL.Path, "/search"):
			return 200, `{"lines": [{"id": 7, "app": "my-app", "message": "hi", "time": "2026-11-22T10:00:00Z"}], "next": "c2"}`
		case r.URL.Path == "/api/drains" && r.Method == "GET":
			return 200, `[{"id": "d_1", "app": "my-app", "url": "https://d_1@x/logs", "sinks": {"archive": "ok"}}]`
		case strings.HasSuffix(r.URL.Path, "/metrics"):
			return 200, `[{"name": "router.requests", "sum": 3}]`
		}
		return 200, `{"id": "d_1", "app": "my-app", "url": "https://d_1:s@x/logs", "heroku": {"id": "h", "token": "d.t"}}`
	})
	ctx := context.Background()
	since := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	calls := []struct {
		do   func() error
		want request
	}{
		{func() error { _, err := c.AddDrain(ctx, api.AddDrainRequest{App: "my-app"}); return err },
			request{"POST", "/api/drains", "", "Bearer tok", `{"app":"my-app"}`}},
		{func() error { _, err := c.Drain(ctx, "my-app"); return err }, request{"GET", "/api/drains/my-app", "", "Bearer tok", ""}},
		{func() error { _, err := c.RemoveDrain(ctx, "my-app"); return err }, request{"DELETE", "/api/drains/my-app", "", "Bearer tok", ""}},
		{func() error {
			_, err := c.SetHeroku(ctx, "my-app", drainpipe.HerokuDrain{ID: "h", Token: "d.t"})
			return err
		}, request{"PUT", "/api/drains/my-app/heroku", "", "Bearer tok", `{"id":"h","token":"d.t"}`}},
		{func() error {
			_, err := c.Tail(ctx, api.Search{App: "my-app", Dyno: "web.1"}, 5, func(api.Line) error { return nil })
			return err
		}, request{"GET", "/api/apps/my-app/tail", "dyno=web.1&n=5", "Bearer tok", ""}},
		{func() error {
			_, _, err := c.After(ctx, api.Search{App: "my-app", Query: "H12", Since: since}, 6, time.Second)
			return err
		}, request{"GET", "/api/apps/my-app/lines", "after=6&q=H12&wait=1s", "Bearer tok", ""}},
		{func() error {
			_, err := c.Search(ctx, api.PageRequest{Search: api.Search{App: "my-app", Query: "H12", Since: since}, Limit: 3, Cursor: "c1"})
			return err
		}, request{"GET", "/api/apps/my-app/search", "cursor=c1&limit=3&q=H12&since=2026-11-22T09%3A00%3A00Z", "Bearer tok", ""}},
		{func() error { _, err := c.Metrics(ctx, "my-app", since, time.Time{}, "router."); return err },
			request{"GET", "/api/apps/my-app/metrics", "name=router.&since=2026-11-22T09%3A00%3A00Z", "Bearer tok", ""}},
	}
	for _, call := range calls {
		if err := call.do(); err != nil {
			t.Errorf("%s %s: %v", call.want.method, call.want.path, err)
			continue
		}
		if got := f.last(); got != call.want {
			t.Errorf("sent %+v\nwant %+v", got, call.want)
		}
	}
	ds, err := c.Drains(ctx)
	if err != nil || len(ds) != 1 || ds[0].Sinks["archive"] != "ok" {
		t.Errorf("Drains = %+v, %v", ds, err)
	}
	var lines []api.Line
	after, err := c.Tail(ctx, api.Search{App: "my-app"}, 1, func(l api.Line) error { lines = append(lines, l); return nil })
	if err != nil || len(lines) != 1 || lines[0].ID != 7 || lines[0].Message != "hi" || after != 8 {
		t.Errorf("Tail = %+v, after %d, %v", lines, after, err)
	}
	page, err := c.Search(ctx, api.PageRequest{Search: api.Search{App: "my-app"}})
	if err != nil || len(page.Lines) != 1 || page.Lines[0].ID != 7 || page.Next != "c2" {
		t.Errorf("Search = %+v, %v", page, err)
	}
}

func TestClientErrors(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t, func(r *http.Request) (int, string) {
		if r.URL.Path == "/api/drains/nosuchapp" {
			return 404, `{"error": "no drain for app \"nosuchapp\""}`
		}
		return 502, "bad gateway from the proxy"
	})
	_, err := c.Drain(context.Background(), "nosuchapp")
	var se *api.StatusError
	if !errors.As(err, &se) || se.Code != 404 || err.Error() != `no drain for app "nosuchapp"` {
		t.Errorf("404: %v, want the server's sentence", err)
	}
	if _, err := c.Drains(context.Background()); !errors.As(err, &se) || se.Code != 502 || !strings.Contains(err.Error(), "bad gateway") {
		t.Errorf("502 with a text body: %v", err)
	}
	down := api.NewClient("http://127.0.0.1:1", "tok")
	if _, err := down.Drains(context.Background()); err == nil || !strings.Contains(err.Error(), "cannot reach the drainpipe server") {
		t.Errorf("no server: %v, want a sentence saying so", err)
	}
}

// TestFollow: Follow gives every line once, in order, across a server that goes
// away and answers 503 for a while, and ends on a refusal.
func TestFollow(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	stored := []int64{1, 2, 3}
	failures := 0
	c, _ := newClient(t, func(r *http.Request) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		if failures > 0 {
			failures--
			return 503, `{"error": "restarting"}`
		}
		after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		var out api.Lines
		for _, id := range stored {
			if id > after && len(out.Lines) < 2 { // pages of two
				out.Lines = append(out.Lines, api.Line{ID: id, Message: "line " + strconv.FormatInt(id, 10)})
			}
		}
		if len(out.Lines) == 0 && after >= 3 && after < 6 { // the server restarts, then has more
			failures, stored = 3, append(stored, 4, 5, 6)
			return 503, `{"error": "restarting"}`
		}
		if after >= 6 {
			return 401, `{"error": "missing or wrong admin token"}`
		}
		b, _ := json.Marshal(out)
		return 200, string(b)
	})
	var got []int64
	var events []string
	err := c.Follow(context.Background(), api.Search{App: "my-app"}, 0, func(ls []api.Line) error {
		for _, l := range ls {
			got = append(got, l.ID)
		}
		return nil
	}, func(err error) {
		if err != nil {
			events = append(events, "lost")
		} else {
			events = append(events, "back")
		}
	})
	var se *api.StatusError
	if !errors.As(err, &se) || se.Code != 401 {
		t.Fatalf("Follow ended with %v, want the 401", err)
	}
	if want := []int64{1, 2, 3, 4, 5, 6}; !slices.Equal(got, want) {
		t.Fatalf("followed %v, want %v: each line once, in order", got, want)
	}
	if strings.Join(events, ",") != "lost,back" {
		t.Errorf("told %v, want lost once, then back", events)
	}
}

// TestFollowEndsWithItsContext: a cancelled follow ends without an error.
func TestFollowEndsWithItsContext(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t, func(r *http.Request) (int, string) { return 200, `{"lines": []}` })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := c.Follow(ctx, api.Search{App: "my-app"}, 0, func([]api.Line) error { return nil }, nil); err != nil {
		t.Fatalf("Follow = %v, want nil when its context ends", err)
	}
}
