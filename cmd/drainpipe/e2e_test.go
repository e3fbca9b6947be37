package main_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/internal/testfixtures"
	"github.com/drainpipe/drainpipe/logplex"
)

var logplexHeaders = map[string]string{"Content-Type": "application/logplex-1", "User-Agent": "Logplex/v123"}

// TestFixturesEndToEnd posts every fixture body to a real server and reads the
// lines back through the CLI: every frame comes out as the parser reads it.
func TestFixturesEndToEnd(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	files := append(testfixtures.Glob(t, "*.logplex"), testfixtures.Glob(t, "edge-cases/*.logplex")...)
	if len(files) < 27 {
		t.Fatalf("found %d fixtures, want the 3 bodies and 24 edge cases", len(files))
	}
	for i, name := range files {
		t.Run(name, func(t *testing.T) {
			app := fmt.Sprintf("fixture-%d", i)
			u := s.addDrain(app)
			body := readFixture(t, name)
			if code := post(t, u, bytes.NewReader(body), logplexHeaders); code != http.StatusNoContent {
				t.Fatalf("status %d, want 204", code)
			}
			want, _ := logplex.AppendRecords(nil, body, logplex.Options{Received: time.Now()})
			got := s.waitLines(app, len(want))
			if len(got) != len(want) {
				t.Fatalf("stored %d lines, want %d", len(got), len(want))
			}
			for k := range want {
				if got[k].Message != want[k].Message || got[k].Malformed != want[k].Malformed ||
					got[k].Source != want[k].Source || got[k].Dyno != want[k].Dyno {
					t.Errorf("line %d: got %+v\nwant %+v", k, got[k], want[k])
				}
				if !want[k].Malformed && !got[k].Time.Equal(want[k].Time) && want[k].Time.Year() > 2000 && !strings.Contains(name, "Z+00:00") {
					// A bad timestamp falls back to the receive time, which differs; a good one must match.
					if got[k].Time.Sub(got[k].Received).Abs() > time.Minute {
						t.Errorf("line %d: time %v, want %v", k, got[k].Time, want[k].Time)
					}
				}
			}
		})
	}
}

func TestRealisticBodyReadsBackLikeHerokuLogs(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	u := s.addDrain("realistic")
	if code := post(t, u, bytes.NewReader(readFixture(t, "heroku-drain-realistic.logplex")), logplexHeaders); code != 204 {
		t.Fatalf("status %d", code)
	}
	want := strings.Split(strings.TrimSuffix(string(readFixture(t, "heroku-drain-realistic.lines.txt")), "\n"), "\n")
	s.waitLines("realistic", len(want))
	out, _, code := s.cli("tail", "realistic", "-n", "1000")
	if code != 0 {
		t.Fatalf("tail exit %d", code)
	}
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("tail printed %d lines, want %d:\n%s", len(got), len(want), out)
	}
	if !strings.HasSuffix(got[0], "]: "+strings.SplitN(want[0], " - ", 2)[1]) {
		t.Errorf("first line %q does not end with the message of %q", got[0], want[0])
	}
	if !regexpMatch(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 (app|heroku)\[[^\]]+\]: `, got[0]) {
		t.Errorf("line %q is not in `heroku logs` format", got[0])
	}
	// Search: LogsQL, newest first.
	out, _, code = s.cli("search", "realistic", "H12 OR R14", "--json")
	if code != 0 || strings.Count(out, "\n") < 2 || !strings.Contains(out, "H12") || !strings.Contains(out, "R14") {
		t.Fatalf("search exit %d:\n%s", code, out)
	}
	_, errOut, code := s.cli("search", "realistic", "H12 OR")
	if code == 0 || !strings.Contains(errOut, "query") || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
		t.Fatalf("bad query: exit %d, stderr %q: want a one-sentence error and non-zero exit", code, errOut)
	}
	// The fixture's lines are dated years ago, older than the retention: they
	// are filed under the time they were received, a range finds them by that
	// time, and they show their own.
	out, _, _ = s.cli("search", "realistic", "H12", "--since", "1h")
	if !strings.Contains(out, "H12") || strings.HasPrefix(out, time.Now().UTC().Format("2006-")) {
		t.Fatalf("--since 1h: %q; want the H12 line (filed when received), with its own time", out)
	}
	out, _, _ = s.cli("search", "realistic", "H12", "--until", "1h")
	if out != "" {
		t.Fatalf("--until 1h (ago) found lines received now:\n%s", out)
	}
}

// wrongSecret is secret with its last character changed (to another one: a
// secret ending in "A" made "A" no change at all, and the test failed now and then).
func wrongSecret(secret string) string {
	last := "A"
	if strings.HasSuffix(secret, last) {
		last = "B"
	}
	return secret[:len(secret)-1] + last
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	good := s.addDrain("authapp")
	u, _ := url.Parse(good)
	secret, _ := u.User.Password()
	id := u.User.Username()
	body := readFixture(t, "loki-promtail-router.logplex")
	bare := *u
	bare.User = nil

	cases := []struct {
		name    string
		url     string
		headers map[string]string
		want    int
	}{
		{"no credentials", bare.String(), nil, 401},
		{"wrong secret", strings.Replace(good, secret, wrongSecret(secret), 1), nil, 401},
		{"another drain's id", strings.Replace(good, id, "d_aaaaaaaaaaaaaaaa", 1), nil, 401},
		{"bearer wrong", bare.String(), map[string]string{"Authorization": "Bearer nope"}, 401},
		{"basic", good, nil, 204},
		{"bearer (log-shuttle)", bare.String(), map[string]string{"Authorization": "Bearer " + secret}, 204},
	}
	stored := 0
	for _, c := range cases {
		if code := post(t, c.url, bytes.NewReader(body), c.headers); code != c.want {
			t.Errorf("%s: status %d, want %d", c.name, code, c.want)
		}
		if c.want == 204 {
			stored++
		}
	}
	if got := s.waitLines("authapp", stored); len(got) != stored {
		t.Fatalf("stored %d lines, want %d (only from authenticated requests)", len(got), stored)
	}
	if _, _, code := s.cli("drains", "remove", "authapp"); code != 0 {
		t.Fatal("remove failed")
	}
	if code := post(t, good, bytes.NewReader(body), nil); code != 401 {
		t.Fatalf("removed drain: status %d, want 401 at once", code)
	}
	// Admin API with a wrong token.
	cmd := []string{"drains", "list", "--token", "wrong"}
	if _, errOut, code := s.cli(cmd...); code != 1 || !strings.Contains(errOut, "admin token") {
		t.Fatalf("wrong admin token: exit %d, %q", code, errOut)
	}
}

func TestRetriedBatchIsStoredOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	u := s.addDrain("retry")
	// The documented logplex request, headers and all.
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(readFixture(t, "logplex-readme-example.http"))))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	h := map[string]string{}
	for k := range req.Header {
		h[k] = req.Header.Get(k)
	}
	if h["Logplex-Frame-Id"] == "" || len(body) != 730 {
		t.Fatalf("fixture request: frame id %q, body %d bytes", h["Logplex-Frame-Id"], len(body))
	}
	for range 3 {
		if code := post(t, u, bytes.NewReader(body), h); code != 204 {
			t.Fatalf("status %d", code)
		}
	}
	h["Logplex-Frame-Id"] = "another"
	post(t, u, bytes.NewReader(body), h)
	s.closingMarker(u, "retry")
	if got := s.allLines("retry"); len(got) != 21 {
		t.Fatalf("stored %d lines, want 20 and the closing marker: a retried Frame-Id is stored once", len(got))
	}
}

// TestLogShuttleCaptures replays the captured log-shuttle requests: chunked, no
// Content-Length, gzip, X-Request-Id, Bearer and Basic, no Logplex headers.
func TestLogShuttleCaptures(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	u, _ := url.Parse(s.addDrain("shuttle"))
	secret, _ := u.User.Password()
	bare := *u
	bare.User = nil
	total := 0
	for _, req := range []string{"req1", "req2", "req3", "req1"} {
		headers := parseHeaders(t, readFixture(t, "log-shuttle/"+req+".headers.txt"))
		headers["Authorization"] = "Bearer " + secret
		if req == "req2" {
			headers["Authorization"] = "Basic " + basic("token", secret)
		}
		body := readFixture(t, "log-shuttle/"+req+".body.bin")
		// An io.Reader with no length makes the client send chunked, as log-shuttle does.
		code := post(t, bare.String(), io.MultiReader(bytes.NewReader(body)), headers)
		if code != 204 {
			t.Fatalf("%s: status %d", req, code)
		}
		if req == "req1" && total > 0 {
			continue // the replay of req1 has the same X-Request-Id: stored once
		}
		raw := body
		if headers["Content-Encoding"] == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ = io.ReadAll(zr)
		}
		recs, _ := logplex.AppendRecords(nil, raw, logplex.Options{StructuredData: true, Received: time.Now()})
		total += len(recs)
	}
	marker := s.closingMarker(u.String(), "shuttle")
	got := s.lines("shuttle", 1000)
	if len(got) != total+1 || got[len(got)-1].Message != marker {
		t.Fatalf("stored %d lines, want %d and the closing marker", len(got), total)
	}
	got = got[:total]
	long := 0
	for _, l := range got {
		if l.Malformed {
			t.Errorf("malformed line from log-shuttle: %q", l.Message)
		}
		long = max(long, len(l.Message))
	}
	if long < 9000 {
		t.Errorf("longest line %d bytes: req3's 10,000-byte chunks did not come through whole", long)
	}
}

func TestBadRequestsGetClearAnswers(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--max-body", "1MiB")
	u := s.addDrain("limits")
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	_, _ = zw.Write(make([]byte, 50<<20))
	zw.Close()
	cases := []struct {
		name    string
		body    []byte
		headers map[string]string
		want    int
	}{
		{"too large", bytes.Repeat([]byte("x"), 2<<20), nil, 413},
		{"gzip bomb", bomb.Bytes(), map[string]string{"Content-Encoding": "gzip"}, 413},
		{"unknown encoding", []byte("x"), map[string]string{"Content-Encoding": "br"}, 415},
		{"corrupt gzip", []byte("not gzip at all"), map[string]string{"Content-Encoding": "gzip"}, 400},
		{"wrong content type", []byte("{}"), map[string]string{"Content-Type": "application/json"}, 415},
		{"empty body", nil, nil, 204},
	}
	for _, c := range cases {
		if code := post(t, u, bytes.NewReader(c.body), c.headers); code != c.want {
			t.Errorf("%s: status %d, want %d", c.name, code, c.want)
		}
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET: status %d, want 405", resp.StatusCode)
	}
	if got := s.lines("limits", 10); len(got) != 0 {
		t.Errorf("rejected requests stored %d lines", len(got))
	}
	// The server is still healthy after all that.
	resp, err = http.Get(s.url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz after bad requests: %v %v", err, resp)
	}
}

func TestAdminTokenFileAndFlags(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	info, err := os.Stat(filepath.Join(s.data, "admin-token"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("admin-token: %v mode %v, want 0600", err, info)
	}
	out, _, code := s.cli("drains", "add", "flagapp")
	if code != 0 || !strings.Contains(out, "heroku drains:add") {
		t.Fatalf("drains add: exit %d\n%s", code, out)
	}
	out, _, code = s.cli("drains", "add", "flagapp", "--json")
	if code != 0 || !strings.Contains(out, `"existing":true`) {
		t.Fatalf("adding an existing app: exit %d\n%s", code, out)
	}
	out, _, code = s.cli("drains", "list")
	if code != 0 || !strings.Contains(out, "flagapp") || !strings.Contains(out, "archive=ok") {
		t.Fatalf("drains list: exit %d\n%s", code, out)
	}
	_, errOut, code := s.cli("drains", "add", "Not_Valid")
	if code == 0 || !strings.Contains(errOut, "app name") {
		t.Fatalf("invalid app: exit %d %q", code, errOut)
	}
	for _, cmd := range [][]string{{"tail", "nosuchapp"}, {"search", "nosuchapp", "x"}, {"metrics", "nosuchapp"}} {
		if _, errOut, code := s.cli(cmd...); code != 1 || !strings.Contains(errOut, `no app "nosuchapp"`) {
			t.Errorf("%v: exit %d %q, want a sentence about the unknown app", cmd, code, errOut)
		}
	}
	_, errOut, code = s.cli("tail", "nosuchapp", "--follow=false", "-n", "x")
	if code != 2 || errOut == "" {
		t.Fatalf("bad flag: exit %d %q, want 2", code, errOut)
	}
}

func basic(user, pass string) string {
	req, _ := http.NewRequest("GET", "http://x", nil)
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func parseHeaders(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	h := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n")[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if ok && k != "Host" && k != "Transfer-Encoding" && k != "Accept-Encoding" {
			h[k] = v
		}
	}
	return h
}
