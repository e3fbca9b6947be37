package httpd_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/archive/query"
	"github.com/drainpipe/drainpipe/httpd"
)

func admin() http.Header {
	return http.Header{"Authorization": {"Bearer " + adminToken}}
}

// TestAdminToken: the admin API answers the admin token only, compared by hash;
// an empty token is refused even where the stored hash is that of "" (an older
// drainpipe stored it from an empty file).
func TestAdminToken(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	emptyHash := newTestServer(t, func(c *httpd.Config) { c.AdminTokenHash = drainpipe.HashSecret("") })
	for _, tt := range []struct {
		name string
		url  string
		h    http.Header
		code int
	}{
		{"token", ts.url, admin(), 200},
		{"none", ts.url, nil, 401},
		{"wrong", ts.url, http.Header{"Authorization": {"Bearer nope"}}, 401},
		{"basic", ts.url, basicAuth("admin", adminToken), 200}, // Grafana's and vlogscli's way
		{"basic, wrong password", ts.url, basicAuth("admin", "nope"), 401},
		{"empty, over the hash of empty", emptyHash.url, http.Header{"Authorization": {"Bearer "}}, 401},
	} {
		resp, text := do(t, "GET", tt.url+"/api/drains", "", tt.h)
		if resp.StatusCode != tt.code {
			t.Errorf("%s: status %d %q, want %d", tt.name, resp.StatusCode, text, tt.code)
		}
		if tt.code == 401 && (!strings.Contains(text, `"error"`) || !strings.Contains(text, "Bearer token or as the password of Basic auth")) {
			t.Errorf("%s: error answer %q is not {\"error\": ...}", tt.name, text)
		}
	}
}

func TestAdminDrains(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	resp, text := do(t, "POST", ts.url+"/api/drains", `{"app": "myapp"}`, admin())
	var added api.Drain
	if resp.StatusCode != 201 || json.Unmarshal([]byte(text), &added) != nil {
		t.Fatalf("add: %d %s", resp.StatusCode, text)
	}
	if !strings.HasPrefix(added.URL, "https://"+added.ID+":") || !strings.HasSuffix(added.URL, "@logs.example.com/logs") {
		t.Fatalf("added URL %q, want https://ID:SECRET@logs.example.com/logs", added.URL)
	}
	resp, text = do(t, "POST", ts.url+"/api/drains", `{"app": "myapp"}`, admin())
	var again api.Drain
	if resp.StatusCode != 200 || json.Unmarshal([]byte(text), &again) != nil || !again.Existing || again.ID != added.ID ||
		strings.Contains(again.URL, ":"+strings.Split(strings.TrimPrefix(added.URL, "https://"+added.ID+":"), "@")[0]) {
		t.Fatalf("add again: %d %s; want the drain without its secret", resp.StatusCode, text)
	}
	for _, tt := range []struct{ method, path, body string }{
		{"POST", "/api/drains", `{"app": "Not An App"}`},
		{"POST", "/api/drains", `not json`},
		{"PUT", "/api/drains/myapp/heroku", `{"id": "x"}`},
	} {
		if resp, text := do(t, tt.method, ts.url+tt.path, tt.body, admin()); resp.StatusCode != 400 {
			t.Errorf("%s %s %s: %d %s, want 400", tt.method, tt.path, tt.body, resp.StatusCode, text)
		}
	}
	if resp, _ := do(t, "GET", ts.url+"/api/drains/nosuchapp", "", admin()); resp.StatusCode != 404 {
		t.Errorf("unknown app: %d, want 404", resp.StatusCode)
	}
	if resp, text := do(t, "DELETE", ts.url+"/api/drains/myapp", "", admin()); resp.StatusCode != 200 || !strings.Contains(text, added.ID) {
		t.Errorf("remove: %d %s", resp.StatusCode, text)
	}
	if _, ok := ts.drains.ByApp("myapp"); ok {
		t.Error("the drain is still stored after remove")
	}
}

// TestAdminHerokuTokenTaken: a Heroku token another drain holds is a 409 naming the
// conflict (issue 9 item 9).
func TestAdminHerokuTokenTaken(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	ts.drains.add(t, "appb")
	ts.drains.add(t, "appc")
	const token = `{"id": "", "token": "d.0b4c3a6e-2f55-4d6b-9a43-8c6f0e7d5a21"}`
	if resp, text := do(t, "PUT", ts.url+"/api/drains/appc/heroku", token, admin()); resp.StatusCode != 200 {
		t.Fatalf("appc: %d %s", resp.StatusCode, text)
	}
	if resp, text := do(t, "PUT", ts.url+"/api/drains/appb/heroku", token, admin()); resp.StatusCode != 409 {
		t.Fatalf("appb with appc's token: %d %s, want 409", resp.StatusCode, text)
	}
}

// TestAdminHerokuRegistrationKept: a drain has one Heroku registration. The same
// one again is a no-op (keeping what was stored); another is a 409 naming the one
// it has and how to change it, and leaves it in place (its lines keep finding the
// drain; `drains remove` still removes it on Heroku).
func TestAdminHerokuRegistrationKept(t *testing.T) {
	t.Parallel()
	const t1, t2 = "d.11111111-1111-4111-8111-111111111111", "d.22222222-2222-4222-8222-222222222222"
	tests := []struct {
		name      string
		current   string // the registration recorded first
		put       string
		code      int
		wantSaid  []string // in a 409's sentence
		wantAfter drainpipe.HerokuDrain
	}{
		{"same registration again", `{"id": "h-1", "token": "` + t1 + `"}`, `{"id": "h-1", "token": "` + t1 + `"}`, 200, nil, drainpipe.HerokuDrain{ID: "h-1", Token: t1}},
		{"same token, by token only", `{"id": "h-1", "token": "` + t1 + `"}`, `{"token": "` + t1 + `"}`, 200, nil, drainpipe.HerokuDrain{ID: "h-1", Token: t1}},
		{"another token over drainpipe's", `{"id": "h-1", "token": "` + t1 + `"}`, `{"token": "` + t2 + `"}`, 409,
			[]string{t1, t2, "drainpipe drains remove s", "removes it on Heroku too"}, drainpipe.HerokuDrain{ID: "h-1", Token: t1}},
		{"another token over the user's", `{"token": "` + t1 + `"}`, `{"token": "` + t2 + `"}`, 409,
			[]string{t1, t2, "drainpipe drains remove s", "heroku drains:remove " + t1 + " -a s"}, drainpipe.HerokuDrain{Token: t1}},
		{"a drainpipe registration over the user's", `{"token": "` + t1 + `"}`, `{"id": "h-2", "token": "` + t2 + `"}`, 409,
			[]string{t1, t2}, drainpipe.HerokuDrain{Token: t1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, nil)
			ts.drains.add(t, "s")
			if resp, text := do(t, "PUT", ts.url+"/api/drains/s/heroku", tt.current, admin()); resp.StatusCode != 200 {
				t.Fatalf("first registration: %d %s", resp.StatusCode, text)
			}
			resp, text := do(t, "PUT", ts.url+"/api/drains/s/heroku", tt.put, admin())
			if resp.StatusCode != tt.code {
				t.Fatalf("PUT %s: %d %s, want %d", tt.put, resp.StatusCode, text, tt.code)
			}
			for _, w := range tt.wantSaid {
				if !strings.Contains(text, w) {
					t.Errorf("answer %s does not say %q", text, w)
				}
			}
			if tt.code == 200 {
				var d api.Drain
				if err := json.Unmarshal([]byte(text), &d); err != nil || d.Heroku == nil || *d.Heroku != tt.wantAfter {
					t.Errorf("answer %s, want the registration %+v", text, tt.wantAfter)
				}
			}
			if d, _ := ts.drains.ByApp("s"); d.Heroku == nil || *d.Heroku != tt.wantAfter {
				t.Errorf("stored registration %+v, want %+v", d.Heroku, tt.wantAfter)
			}
		})
	}
}

// TestAdminSinkStatus: each drain shows each sink's status: ok, or its lag and
// last error, and what the sink says of the app.
func TestAdminSinkStatus(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ts := newTestServer(t, func(c *httpd.Config) {
		c.Now = func() time.Time { return now }
		c.Sinks = []httpd.StatusReporter{
			fakeSink{name: "archive", st: httpd.SinkStatus{Lag: 36400 * time.Millisecond}},
			fakeSink{name: "cloudwatch", st: httpd.SinkStatus{Lag: 2 * time.Minute, LastError: "PutLogEvents: dial tcp: connection refused",
				LastErrorAt: now.Add(-5 * time.Second), Apps: map[string]string{"parked": "parked: AccessDeniedException: no"}}},
			fakeSink{name: "metrics", st: httpd.SinkStatus{Lag: 200 * time.Millisecond}},
		}
	})
	ts.drains.add(t, "myapp")
	ts.drains.add(t, "parked")
	_, text := do(t, "GET", ts.url+"/api/drains", "", admin())
	var ds []api.Drain
	if err := json.Unmarshal([]byte(text), &ds); err != nil || len(ds) != 2 {
		t.Fatalf("list: %v %s", err, text)
	}
	want := map[string]map[string]string{
		"myapp": {"archive": "lag 36s", "cloudwatch": "lag 2m0s; last error 5s ago: PutLogEvents: dial tcp: connection refused", "metrics": "ok"},
		"parked": {"archive": "lag 36s", "cloudwatch": "parked: AccessDeniedException: no; lag 2m0s; last error 5s ago: PutLogEvents: dial tcp: connection refused",
			"metrics": "ok"},
	}
	for _, d := range ds {
		for sink, w := range want[d.App] {
			if d.Sinks[sink] != w {
				t.Errorf("%s %s = %q, want %q", d.App, sink, d.Sinks[sink], w)
			}
		}
	}
}

// TestAdminSinkStatusInCluster: a sink split over a cluster's nodes shows each app
// the status of its part, and the node that delivers it.
func TestAdminSinkStatusInCluster(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	partOf := map[string]int{"myapp": 0, "other": 1}
	ts := newTestServer(t, func(c *httpd.Config) {
		c.Now = func() time.Time { return now }
		c.Sinks = []httpd.StatusReporter{
			fakeSink{name: "archive", st: httpd.SinkStatus{Node: "a"}},
			fakeSink{name: "cloudwatch", st: httpd.SinkStatus{
				PartOf: func(app string) int { return partOf[app] },
				Parts: []httpd.SinkStatus{{Node: "b"}, {Lag: 3 * time.Minute, LastError: "PutLogEvents: throttled",
					LastErrorAt: now.Add(-time.Second), Node: "c"}},
			}},
		}
	})
	ts.drains.add(t, "myapp")
	ts.drains.add(t, "other")
	_, text := do(t, "GET", ts.url+"/api/drains", "", admin())
	var ds []api.Drain
	if err := json.Unmarshal([]byte(text), &ds); err != nil || len(ds) != 2 {
		t.Fatalf("list: %v %s", err, text)
	}
	want := map[string]map[string]string{
		"myapp": {"archive": "ok (node a)", "cloudwatch": "ok (node b)"},
		"other": {"archive": "ok (node a)", "cloudwatch": "lag 3m0s; last error 1s ago: PutLogEvents: throttled (node c)"},
	}
	for _, d := range ds {
		for sink, w := range want[d.App] {
			if d.Sinks[sink] != w {
				t.Errorf("%s %s = %q, want %q", d.App, sink, d.Sinks[sink], w)
			}
		}
	}
}

// TestAdminLines: the line endpoints over a real archive and its reader: tail,
// follow, search, and their answers to an unknown app and bad parameters.
func TestAdminLines(t *testing.T) {
	t.Parallel()
	arc := openArchive(t)
	ts := newTestServer(t, func(c *httpd.Config) {
		c.Metrics = fakeHistory{}
		c.Archive, c.Reader = arc, query.New(query.Config{Storage: arc})
	})
	ts.drains.add(t, "myapp")
	var recs []drainpipe.Record
	for i := range 5 {
		recs = append(recs, drainpipe.Record{App: "myapp", Message: "line " + string(rune('a'+i)), Source: "app", Dyno: "web.1"})
	}
	writeLines(t, arc, 1, recs...)
	writeLines(t, arc, 2, drainpipe.Record{App: "gone", Message: "from a drain removed since", Source: "app"})
	for _, tt := range []struct {
		path string
		code int
		n    int
	}{
		{"/api/apps/myapp/tail?n=2", 200, 2},
		{"/api/apps/myapp/lines?after=3&wait=0s", 200, 2},
		{"/api/apps/myapp/lines?after=5&wait=50ms", 200, 0},
		{"/api/apps/myapp/search?q=line+c", 200, 1},
		{"/api/apps/gone/tail", 200, 1}, // lines, but no drain any more
		{"/api/apps/nosuchapp/tail", 404, 0},
		{"/api/apps/myapp/tail?n=-1", 400, 0},
		{"/api/apps/myapp/lines?wait=1h", 400, 0},
		{"/api/apps/myapp/search?since=someday", 400, 0},
		{"/api/apps/myapp/search?limit=0", 400, 0},
		{"/api/apps/myapp/search?q=%7C+sort", 400, 0}, // a pipe: not a filter
	} {
		resp, text := do(t, "GET", ts.url+tt.path, "", admin())
		var ls api.Lines
		if resp.StatusCode != tt.code {
			t.Errorf("%s: %d %s, want %d", tt.path, resp.StatusCode, text, tt.code)
			continue
		}
		if tt.code == 200 && (json.Unmarshal([]byte(text), &ls) != nil || len(ls.Lines) != tt.n) {
			t.Errorf("%s: %s, want %d lines", tt.path, text, tt.n)
		}
	}
	if resp, text := do(t, "GET", ts.url+"/api/apps/myapp/metrics?since=1h", "", admin()); resp.StatusCode != 200 || !strings.Contains(text, "router.requests") {
		t.Errorf("metrics: %d %s", resp.StatusCode, text)
	}
	off := newTestServer(t, nil)
	off.drains.add(t, "myapp")
	if resp, _ := do(t, "GET", off.url+"/api/apps/myapp/metrics", "", admin()); resp.StatusCode != 404 {
		t.Errorf("metrics when off: %d, want 404", resp.StatusCode)
	}
}

// openArchive opens a real archive in a temporary directory.
func openArchive(t *testing.T) *archive.Archive {
	t.Helper()
	arc, err := archive.Open(t.Context(), archive.Config{Dir: t.TempDir(), PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = arc.Close() })
	return arc
}

// writeLines stores recs in arc as journal entry seq, received now.
func writeLines(t *testing.T, arc *archive.Archive, seq uint64, recs ...drainpipe.Record) {
	t.Helper()
	now := time.Now().UTC()
	for i := range recs {
		recs[i].Time, recs[i].Received = now, now
	}
	b := drainpipe.Batch{App: recs[0].App, Received: now, Records: recs}
	if err := arc.Write(t.Context(), []drainpipe.Entry{{Seq: seq, Journal: "test", Batches: []drainpipe.Batch{b}}}); err != nil {
		t.Fatal(err)
	}
}
