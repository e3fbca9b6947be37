package ui_test

import (
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/internal/testclock"
	"github.com/drainpipe/drainpipe/ui"
)

const adminToken = "the-admin-token-of-this-test"

// noAPI stands where the admin API goes when a test passes none: these tests
// are about the UI's own rules (login, sessions, CSRF, headers), which hold
// whatever the API answers, and it stands for an API that fails. The tests of
// pages that show the API's answers pass realAPI; those in cmd/drainpipe run the
// UI in the real server.
var noAPI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	http.Error(w, `{"error":"no API in this test"}`, http.StatusServiceUnavailable)
})

func newServer(t *testing.T, cfg ui.Config) (*httptest.Server, *testclock.Clock) {
	t.Helper()
	clk := testclock.New(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
	sum := sha256.Sum256([]byte(adminToken))
	if cfg.API == nil {
		cfg.API = noAPI
	}
	cfg.AdminTokenHash, cfg.Now = sum[:], clk.Now
	h, err := ui.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.Close(); srv.Close() })
	return srv, clk
}

// browserClient is a client with a cookie jar that does not follow redirects.
func browserClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// login logs c in and returns the session's CSRF token.
func login(t *testing.T, c *http.Client, base, user, password string) (*http.Response, string) {
	t.Helper()
	_, page := get(t, c, base+"/ui/login")
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field on the login page:\n%s", page)
	}
	resp, _ := postForm(t, c, base+"/ui/login", url.Values{"csrf": {m[1]}, "user": {user}, "password": {password}, "next": {"/ui/system"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		return resp, ""
	}
	_, page = get(t, c, base+"/ui/system")
	m = csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field on the system page:\n%s", page)
	}
	return resp, m[1]
}

// waitFor waits until cond holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: not yet: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLoginAndSessionCookie(t *testing.T) {
	for _, tc := range []struct {
		publicURL, cookie string
		secure            bool
	}{
		{"http://logs.example.com", "drainpipe_session", false},
		{"https://logs.example.com", "__Host-drainpipe_session", true},
	} {
		t.Run(tc.publicURL, func(t *testing.T) {
			srv, _ := newServer(t, ui.Config{PublicURL: tc.publicURL})
			c := browserClient()
			resp, _ := get(t, c, srv.URL+"/ui/system")
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login?next=%2Fui%2Fsystem" {
				t.Fatalf("without a session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			if resp, _ := login(t, c, srv.URL, "", "wrong"); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("a wrong token: %d", resp.StatusCode)
			}
			resp, _ = login(t, c, srv.URL, "", adminToken)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/system" {
				t.Fatalf("the admin token: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			var sc *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == tc.cookie {
					sc = c
				}
			}
			if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Secure != tc.secure || sc.Path != "/" || sc.Value == "" {
				t.Fatalf("session cookie %+v; want %s, HttpOnly, SameSite=Strict, Secure %v", sc, tc.cookie, tc.secure)
			}
		})
	}
}

func TestLoginWithUsersFile(t *testing.T) {
	users, err := ui.LoadUsers(filepath.Join("testdata", "users"))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := newServer(t, ui.Config{Users: users})
	for _, tc := range []struct {
		user, password string
		code           int
	}{
		{"alice", "correct horse battery", http.StatusSeeOther},
		{"bob", "tr0ub4dor&3 and more", http.StatusSeeOther},
		{"alice", "tr0ub4dor&3 and more", http.StatusUnauthorized},
		{"carol", "correct horse battery", http.StatusUnauthorized},
		{"alice", "", http.StatusUnauthorized},
		{"", adminToken, http.StatusSeeOther},
		{"alice", adminToken, http.StatusUnauthorized},
	} {
		if resp, _ := login(t, browserClient(), srv.URL, tc.user, tc.password); resp.StatusCode != tc.code {
			t.Errorf("login %q/%q: %d, want %d", tc.user, tc.password, resp.StatusCode, tc.code)
		}
	}
	c := browserClient()
	login(t, c, srv.URL, "alice", "correct horse battery")
	if _, page := get(t, c, srv.URL+"/ui/system"); !strings.Contains(page, `<span class="uname">alice · </span>`) {
		t.Error("the page does not name the user")
	}
}

func TestLoginRateLimit(t *testing.T) {
	srv, clk := newServer(t, ui.Config{})
	c := browserClient()
	for i := range 10 {
		if resp, _ := login(t, c, srv.URL, "", "wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, resp.StatusCode)
		}
	}
	resp, _ := login(t, c, srv.URL, "", adminToken)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("attempt 11, with the right token: %d Retry-After %q; want 429", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	clk.Add(6 * time.Second) // one attempt back
	if resp, _ := login(t, c, srv.URL, "", adminToken); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the wait: %d", resp.StatusCode)
	}
}

func TestSessionsExpire(t *testing.T) {
	srv, clk := newServer(t, ui.Config{SessionTTL: 3 * time.Hour, IdleTimeout: time.Hour})
	c := browserClient()
	login(t, c, srv.URL, "", adminToken)
	for range 3 { // in use: 50 min apart, 2 h 30 in all
		clk.Add(50 * time.Minute)
		if resp, _ := get(t, c, srv.URL+"/ui/system"); resp.StatusCode != http.StatusOK {
			t.Fatalf("a session in use ended: %d", resp.StatusCode)
		}
	}
	clk.Add(31 * time.Minute) // 3 h 01 after login
	if resp, _ := get(t, c, srv.URL+"/ui/system"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a session past its TTL: %d", resp.StatusCode)
	}
	login(t, c, srv.URL, "", adminToken)
	clk.Add(61 * time.Minute)
	if resp, _ := get(t, c, srv.URL+"/ui/system"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("an idle session: %d", resp.StatusCode)
	}
}

func TestChangesNeedTheCSRFToken(t *testing.T) {
	srv, _ := newServer(t, ui.Config{})
	c := browserClient()
	_, token := login(t, c, srv.URL, "", adminToken)
	for _, tc := range []struct {
		name   string
		form   url.Values
		header http.Header
		code   int
	}{
		{"no token", url.Values{"app": {"evil"}}, nil, http.StatusForbidden},
		{"a wrong token", url.Values{"app": {"evil"}, "csrf": {"x" + token}}, nil, http.StatusForbidden},
		{"cross-site", url.Values{"app": {"evil"}, "csrf": {token}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
		{"same-site, another origin", url.Values{"app": {"evil"}, "csrf": {token}}, http.Header{"Sec-Fetch-Site": {"same-site"}}, http.StatusForbidden},
		{"another Origin", url.Values{"app": {"evil"}, "csrf": {token}}, http.Header{"Origin": {"http://evil.example"}}, http.StatusForbidden},
	} {
		if resp, body := postForm(t, c, srv.URL+"/ui/drains", tc.form, tc.header); resp.StatusCode != tc.code || !strings.Contains(body, "Refused") {
			t.Errorf("%s: %d, want %d and the refusal page", tc.name, resp.StatusCode, tc.code)
		}
	}
	// The API proxy takes the token in a header only.
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/ui/api/drains/x", nil)
	if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("DELETE through the API without the token: %v %v", resp.StatusCode, err)
	}
	// With the token, logging out works, and the session is gone.
	if resp, _ := postForm(t, c, srv.URL+"/ui/logout", url.Values{"csrf": {token}}, http.Header{"Sec-Fetch-Site": {"same-origin"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("log out: %d", resp.StatusCode)
	}
	if resp, _ := get(t, c, srv.URL+"/ui/system"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after logging out: %d", resp.StatusCode)
	}
}

func TestLoginGoesOnlyToTheUI(t *testing.T) {
	srv, _ := newServer(t, ui.Config{})
	for next, want := range map[string]string{
		"/ui/search?app=x&q=H12": "/ui/search?app=x&q=H12",
		"https://evil.example/":  "/ui/",
		"//evil.example/ui/":     "/ui/",
		"/ui/\\evil":             "/ui/",
		"/api/drains":            "/ui/",
		"/ui/login":              "/ui/",
	} {
		c := browserClient()
		_, page := get(t, c, srv.URL+"/ui/login")
		m := csrfField.FindStringSubmatch(page)
		resp, _ := postForm(t, c, srv.URL+"/ui/login", url.Values{"csrf": {m[1]}, "password": {adminToken}, "next": {next}}, nil)
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("next %q: to %q, want %q", next, got, want)
		}
	}
}

func TestHeadersAndAssets(t *testing.T) {
	srv, _ := newServer(t, ui.Config{})
	c := browserClient()
	resp, page := get(t, c, srv.URL+"/ui/login")
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self';",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
	} {
		if got := resp.Header.Get(k); !strings.HasPrefix(got, want) {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, " style=") || strings.Contains(page, " on") && regexp.MustCompile(` on[a-z]+=`).MatchString(page) {
		t.Error("the page has inline script or style")
	}
	css := regexp.MustCompile(`href="(/ui/assets/app\.[0-9a-f]{10}\.css)"`).FindStringSubmatch(page)
	if css == nil {
		t.Fatalf("no hashed stylesheet on the page")
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+css[1], nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		resp.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("asset: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ := get(t, c, srv.URL+"/ui/assets/app.0000000000.css"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown asset: %d", resp.StatusCode)
	}
	if resp, _ := get(t, c, srv.URL+"/"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ui/" {
		t.Errorf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}
