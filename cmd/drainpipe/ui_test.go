package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// uiServer is a drainpipe server under a browser: the admin token, and the
// drain URLs the test made.
type uiServer struct {
	*server
	token string
}

func startUIServer(t testing.TB, args ...string) *uiServer {
	t.Helper()
	s := startServer(t, "", append([]string{"--metrics-interval", "1s"}, args...)...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", s.logText())
		}
	})
	raw, err := os.ReadFile(filepath.Join(s.data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	return &uiServer{server: s, token: strings.TrimSpace(string(raw))}
}

// login logs the browser in with the admin token through the login form.
func (s *uiServer) login(b *browser) {
	b.t.Helper()
	b.run("log in",
		chromedp.Navigate(s.url+"/ui/drains"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=password]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), s.token),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`#add-drain`)),
	)
}

// addDrainInUI adds a drain through the drains page and returns its URL, with
// the secret, as the page shows it once.
func (s *uiServer) addDrainInUI(b *browser, app string) string {
	b.t.Helper()
	b.run("add a drain",
		chromedp.Navigate(s.url+"/ui/drains"),
		chromedp.SendKeys(chromedp.CSS(`#add-drain input[name=app]`), app),
		chromedp.Submit(chromedp.CSS(`#add-drain input[name=app]`)),
		chromedp.WaitVisible(chromedp.CSS(`#drain-url`)),
	)
	drainURL := get(b, "read the drain URL", chromedp.Value(chromedp.CSS(`#drain-url`)))
	cmd := get(b, "read the heroku command", chromedp.Value(chromedp.CSS(`#heroku-cmd`)))
	if !strings.HasPrefix(cmd, "heroku drains:add '"+drainURL+"' -a "+app) {
		b.t.Errorf("heroku command %q does not register %q", cmd, drainURL)
	}
	u, err := url.Parse(drainURL)
	if err != nil || u.User == nil {
		b.t.Fatalf("drain URL %q holds no credentials", drainURL)
	}
	// The URL is built on --public-url; send to the real address.
	return strings.Replace(drainURL, "127.0.0.1:1", strings.TrimPrefix(s.url, "http://"), 1)
}

func TestUIUnauthenticatedGetsNoData(t *testing.T) {
	s := startUIServer(t)
	s.addDrain("secretapp")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		path     string
		code     int
		location string
	}{
		{"/", http.StatusFound, "/ui/"},
		{"/ui/", http.StatusFound, "/ui/tail"},
		{"/ui/tail?app=secretapp", http.StatusSeeOther, "/ui/login?next=%2Fui%2Ftail%3Fapp%3Dsecretapp"},
		{"/ui/drains", http.StatusSeeOther, "/ui/login?next=%2Fui%2Fdrains"},
		{"/ui/system", http.StatusSeeOther, "/ui/login?next=%2Fui%2Fsystem"},
		{"/ui/api/drains", http.StatusUnauthorized, ""},
		{"/ui/api/apps/secretapp/tail", http.StatusUnauthorized, ""},
		{"/ui/stream?app=secretapp", http.StatusUnauthorized, ""},
		{"/ui/data/metrics?app=secretapp", http.StatusUnauthorized, ""},
	} {
		resp, err := noRedirect.Get(s.url + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || resp.Header.Get("Location") != tc.location {
			t.Errorf("GET %s: %d Location %q, want %d %q", tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.code, tc.location)
		}
		if strings.Contains(string(body), "secretapp") && tc.location == "" {
			t.Errorf("GET %s without a session shows data: %s", tc.path, body)
		}
	}
	// The login page itself shows nothing of the server's data.
	resp, err := http.Get(s.url + "/ui/drains")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `action="/ui/login"`) || strings.Contains(string(body), "secretapp") {
		t.Errorf("following the redirect: %d, want the login page and no app names:\n%s", resp.StatusCode, body)
	}
}

// sessionClient logs in with the admin token over plain HTTP and returns a
// client holding the session cookie, and the session's CSRF token.
func (s *uiServer) sessionClient(t testing.TB) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.Get(s.url + "/ui/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loginCSRF := hiddenValue(t, string(page), "csrf")
	resp, err = c.PostForm(s.url+"/ui/login", url.Values{"csrf": {loginCSRF}, "password": {s.token}, "next": {"/ui/drains"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/ui/drains" {
		t.Fatalf("login: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	return c, hiddenValue(t, string(page), "csrf")
}

// hiddenValue finds the value of the first hidden input named name in page.
func hiddenValue(t testing.TB, page, name string) string {
	t.Helper()
	marker := `name="` + name + `" value="`
	i := strings.Index(page, marker)
	if i < 0 {
		t.Fatalf("no %s field in the page", name)
	}
	rest := page[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

// waitCharts polls the metrics page's data until it has at least n panels with
// points, and returns it.
func waitCharts(t *testing.T, c *http.Client, base, app string, n int) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.Get(base + "/ui/data/metrics?app=" + app + "&from=1h")
		if err != nil {
			t.Fatal(err)
		}
		var data map[string]any
		err = json.NewDecoder(resp.Body).Decode(&data)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("metrics data: %d %v %v", resp.StatusCode, err, data)
		}
		if panels, _ := data["panels"].([]any); len(panels) >= n {
			return data
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics data after 30 s: %v", data)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestUIMetricsData(t *testing.T) {
	s := startUIServer(t)
	drainURL := s.addDrain("webshop")
	sendRecords(t, drainURL, traffic(1, time.Now(), 20*time.Minute, 600))
	c, _ := s.sessionClient(t)
	waitCharts(t, c, s.url, "webshop", 10)
}

// TestUIOnItsOwnAddress: with --ui-listen the UI is served there and only there;
// the drain port keeps the drains and the API and serves no page.
func TestUIOnItsOwnAddress(t *testing.T) {
	t.Parallel()
	uiAddr := freeAddr(t)
	s := startUIServer(t, "--ui-listen", uiAddr)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		url  string
		code int
	}{
		{s.url + "/", http.StatusNotFound},
		{s.url + "/ui/login", http.StatusNotFound},
		{s.url + "/healthz", http.StatusOK},
		{"http://" + uiAddr + "/", http.StatusFound},
		{"http://" + uiAddr + "/ui/login", http.StatusOK},
		{"http://" + uiAddr + "/logs", http.StatusNotFound},
		{"http://" + uiAddr + "/api/drains", http.StatusNotFound},
		{"http://" + uiAddr + "/ui/api/drains", http.StatusUnauthorized},
	} {
		var resp *http.Response
		var err error
		deadline := time.Now().Add(10 * time.Second)
		for { // the UI's listener may start a moment after the drain port's
			if resp, err = noRedirect.Get(tc.url); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("GET %s: %d, want %d", tc.url, resp.StatusCode, tc.code)
		}
	}
	ui := &uiServer{server: &server{t: t, url: "http://" + uiAddr, data: s.data}, token: s.token}
	c, _ := ui.sessionClient(t)
	resp, err := c.Get(ui.url + "/ui/api/drains")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the API through the UI's address, logged in: %d", resp.StatusCode)
	}
}

// TestUIUsersFile makes a users file with `drainpipe ui-user` and logs in with it.
func TestUIUsersFile(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binary, "ui-user", "alice")
	cmd.Stdin = strings.NewReader("a long enough password\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ui-user: %v", err)
	}
	if !strings.HasPrefix(string(out), "alice:$2a$12$") {
		t.Fatalf("ui-user printed %q", out)
	}
	cmd = exec.Command(binary, "ui-user", "bob")
	cmd.Stdin = strings.NewReader("short\n")
	if err := cmd.Run(); err == nil {
		t.Error("ui-user took a 5-character password")
	}
	users := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(users, out, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startUIServer(t, "--ui-users", users)
	for _, tc := range []struct {
		user, password string
		code           int
	}{
		{"alice", "a long enough password", http.StatusSeeOther},
		{"alice", "a wrong password", http.StatusUnauthorized},
		{"", s.token, http.StatusSeeOther},
	} {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(s.url + "/ui/login")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp, err = c.PostForm(s.url+"/ui/login", url.Values{"csrf": {hiddenValue(t, string(page), "csrf")}, "user": {tc.user}, "password": {tc.password}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("log in as %q: %d, want %d", tc.user, resp.StatusCode, tc.code)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad-users")
	if err := os.WriteFile(bad, []byte("alice:plaintext\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runDrainpipe(t, nil, "serve", "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--ui-users", bad)
	if code != 2 || !strings.Contains(errOut, "line 1") {
		t.Errorf("a bad users file: exit %d, %s", code, errOut)
	}
}
