package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/drainpipe/drainpipe"
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

// uiLines reads app's stored lines through the UI's API proxy.
func uiLines(t *testing.T, c *http.Client, base, app string) []drainpipe.Record {
	t.Helper()
	resp, err := c.Get(base + "/ui/api/apps/" + app + "/tail?n=1000")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Lines []drainpipe.Record }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Lines
}

var _ = fmt.Sprint

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
