package herokuemu_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drainpipe/drainpipe/heroku/herokuemu"
)

const (
	key    = "emu-key"
	accept = "application/vnd.heroku+json; version=3"
)

type answer struct {
	status    int
	id        string
	message   string
	remaining string
	body      string
}

// send makes one raw request, bypassing the client, to check the double's own
// answers.
func send(t *testing.T, base, method, path, body string, hdr map[string]string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e struct{ ID, Message string }
	if resp.StatusCode >= 400 {
		_ = json.Unmarshal(data, &e)
	}
	return answer{resp.StatusCode, e.ID, e.Message, resp.Header.Get("RateLimit-Remaining"), string(data)}
}

func good() map[string]string {
	return map[string]string{"Authorization": "Bearer " + key, "Accept": accept}
}

func with(k, v string) map[string]string {
	h := good()
	if v == "" {
		delete(h, k)
	} else {
		h[k] = v
	}
	return h
}

func TestAnswers(t *testing.T) {
	t.Parallel()
	emu := herokuemu.New(herokuemu.Config{APIKey: key})
	base, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	appID := emu.AddApp("myapp")
	if again := emu.AddApp("myapp"); again != appID {
		t.Fatalf("AddApp twice gave two ids: %s, %s", appID, again)
	}

	cases := []struct {
		name         string
		method, path string
		body         string
		hdr          map[string]string
		status       int
		id           string
		message      string
	}{
		{"no key", "GET", "/apps/myapp/log-drains", "", with("Authorization", ""), 401, "unauthorized", "Invalid credentials provided."},
		{"wrong key", "GET", "/apps/myapp/log-drains", "", with("Authorization", "Bearer nope"), 401, "unauthorized", "Invalid credentials provided."},
		{"basic scheme", "GET", "/apps/myapp/log-drains", "", with("Authorization", "Basic "+key), 401, "unauthorized", "Invalid credentials provided."},
		{"no Accept", "GET", "/apps/myapp/log-drains", "", with("Accept", ""), 406, "not_acceptable", ""},
		{"version 2", "GET", "/apps/myapp/log-drains", "", with("Accept", "application/vnd.heroku+json; version=2"), 406, "not_acceptable", ""},
		{"Accept among others", "GET", "/apps/myapp/log-drains", "", with("Accept", "text/plain, application/vnd.heroku+json; version=3"), 200, "", ""},
		{"list", "GET", "/apps/myapp/log-drains", "", good(), 200, "", ""},
		{"list by app id", "GET", "/apps/" + appID + "/log-drains", "", good(), 200, "", ""},
		{"unknown app", "GET", "/apps/nope/log-drains", "", good(), 404, "not_found", "Couldn't find that app."},
		{"unknown drain", "GET", "/apps/myapp/log-drains/d.nope", "", good(), 404, "not_found", "Couldn't find that log drain."},
		{"unknown endpoint", "GET", "/apps/myapp", "", good(), 404, "not_found", ""},
		{"bad JSON", "POST", "/apps/myapp/log-drains", "{", good(), 400, "bad_request", "Invalid JSON."},
		{"blank URL", "POST", "/apps/myapp/log-drains", `{"url":""}`, good(), 422, "invalid_params", "Url can't be blank"},
		{"no host", "POST", "/apps/myapp/log-drains", `{"url":"https:///x"}`, good(), 422, "invalid_params", "Url is invalid"},
		{"syslog+tls accepted", "POST", "/apps/myapp/log-drains", `{"url":"syslog+tls://logs.example.com:6514"}`, good(), 201, "", ""},
		{"duplicate", "POST", "/apps/myapp/log-drains", `{"url":"syslog+tls://logs.example.com:6514"}`, good(), 422, "invalid_params", "Url has already been taken"},
		{"get by escaped URL", "GET", "/apps/myapp/log-drains/syslog%2Btls%3A%2F%2Flogs.example.com%3A6514", "", good(), 200, "", ""},
	}
	for _, tc := range cases {
		a := send(t, base, tc.method, tc.path, tc.body, tc.hdr)
		if a.status != tc.status || a.id != tc.id || (tc.message != "" && a.message != tc.message) {
			t.Errorf("%s: got %d %s %q, want %d %s %q", tc.name, a.status, a.id, a.message, tc.status, tc.id, tc.message)
		}
		if _, err := strconv.Atoi(a.remaining); err != nil {
			t.Errorf("%s: RateLimit-Remaining = %q", tc.name, a.remaining)
		}
	}
	if n := emu.Requests(); n != len(cases) {
		t.Errorf("Requests() = %d, want %d", n, len(cases))
	}
	ds := emu.Drains("myapp")
	if len(ds) != 1 || !strings.HasPrefix(ds[0].Token, "d.") || ds[0].App.ID != appID {
		t.Errorf("Drains = %+v", ds)
	}
	if emu.Drains("nope") != nil {
		t.Error("Drains of an unknown app is not nil")
	}
}

func TestCreatedDrainJSON(t *testing.T) {
	t.Parallel()
	emu := herokuemu.New(herokuemu.Config{APIKey: key})
	emu.AddApp("myapp")
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/apps/myapp/log-drains", strings.NewReader(`{"url":"https://example.com/x"}`))
	for k, v := range good() {
		req.Header.Set(k, v)
	}
	emu.ServeHTTP(rec, req)
	if rec.Code != 201 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"id", "url", "token", "addon", "app", "created_at", "updated_at"} {
		if _, ok := got[field]; !ok {
			t.Errorf("drain JSON lacks %q: %s", field, rec.Body)
		}
	}
	if got["addon"] != nil {
		t.Errorf("addon = %v, want null", got["addon"])
	}
	if _, err := time.Parse(time.RFC3339, got["created_at"].(string)); err != nil {
		t.Errorf("created_at: %v", err)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		emu := herokuemu.New(herokuemu.Config{APIKey: key, RateLimit: 2, RatePeriod: 2 * time.Second})
		emu.AddApp("myapp")
		get := func() (int, string) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/apps/myapp/log-drains", nil)
			for k, v := range good() {
				req.Header.Set(k, v)
			}
			emu.ServeHTTP(rec, req)
			return rec.Code, rec.Header().Get("RateLimit-Remaining")
		}
		steps := []struct {
			wait      time.Duration
			status    int
			remaining string
		}{
			{0, 200, "1"},
			{0, 200, "0"},
			{0, 429, "0"},
			{999 * time.Millisecond, 429, "0"}, // not yet a whole request earned
			{time.Millisecond, 200, "0"},       // one earned, one spent
			{time.Hour, 200, "1"},              // refilled to the cap, not past it
		}
		for i, s := range steps {
			time.Sleep(s.wait)
			if status, rem := get(); status != s.status || rem != s.remaining {
				t.Errorf("step %d: %d remaining %s, want %d remaining %s", i, status, rem, s.status, s.remaining)
			}
		}
	})
}

func TestSetFail(t *testing.T) {
	t.Parallel()
	emu := herokuemu.New(herokuemu.Config{APIKey: key})
	base, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	emu.AddApp("myapp")
	emu.SetFail(2, 503, "service_unavailable", "down")
	for i, want := range []int{503, 503, 200} {
		a := send(t, base, "GET", "/apps/myapp/log-drains", "", good())
		if a.status != want {
			t.Errorf("request %d: %d, want %d", i, a.status, want)
		}
	}
	// A fault comes before the key check.
	emu.SetFail(1, 403, "forbidden", "no")
	if a := send(t, base, "GET", "/apps/myapp/log-drains", "", nil); a.status != 403 || a.id != "forbidden" {
		t.Errorf("fault without a key: %+v", a)
	}
}

func TestAddonDrain(t *testing.T) {
	t.Parallel()
	emu := herokuemu.New(herokuemu.Config{APIKey: key})
	if _, err := emu.AddAddonDrain("nope", "papertrail", "syslog://x:1"); err == nil {
		t.Error("AddAddonDrain on an unknown app succeeded")
	}
	emu.AddApp("myapp")
	d, err := emu.AddAddonDrain("myapp", "papertrail-rigid-1", "syslog://x:1")
	if err != nil || d.Addon == nil || d.Addon.Name != "papertrail-rigid-1" || d.Addon.ID == "" {
		t.Fatalf("AddAddonDrain = %+v, %v", d, err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("DELETE", "/apps/myapp/log-drains/"+d.Token, nil)
	for k, v := range good() {
		req.Header.Set(k, v)
	}
	emu.ServeHTTP(rec, req)
	if rec.Code != 422 || !strings.Contains(rec.Body.String(), "papertrail-rigid-1") {
		t.Fatalf("delete add-on drain: %d %s", rec.Code, rec.Body)
	}
	if len(emu.Drains("myapp")) != 1 {
		t.Fatal("add-on drain was deleted")
	}
}

func TestCloseWithoutListen(t *testing.T) {
	t.Parallel()
	if err := herokuemu.New(herokuemu.Config{APIKey: key}).Close(); err != nil {
		t.Fatal(err)
	}
}
