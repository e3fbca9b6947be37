package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/internal/testfixtures"
	"github.com/drainpipe/drainpipe/logplex"
)

// binary is the drainpipe binary under test, built once by TestMain: the end-to-end
// tests run the real server process, as a user would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "drainpipe-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "drainpipe")
	// Built as a user builds it: stamped with its commit when in a clone, whatever
	// GOFLAGS this machine sets (-buildvcs=false here), so the pages show a version
	// as long as a user's (TestUIInBrowser's phone width caught one that was not).
	if out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build drainpipe: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running `drainpipe serve` process.
type server struct {
	t    testing.TB
	bin  string // the drainpipe binary to run; binary when empty
	cmd  *exec.Cmd
	data string
	url  string // http://127.0.0.1:PORT
	args []string
	env  []string
	wrap []string // a command that runs the binary, such as prlimit with its flags
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
	err  error
}

var addrRe = regexp.MustCompile(`msg="drainpipe serving" addr=(\S+)`)

// startServer runs `drainpipe serve` on 127.0.0.1:0 with data in dir (a new temp
// dir when empty) and waits until it serves.
func startServer(t testing.TB, data string, args ...string) *server {
	t.Helper()
	return startServerEnv(t, data, nil, args...)
}

// startServerEnv is startServer with extra environment variables.
func startServerEnv(t testing.TB, data string, env []string, args ...string) *server {
	t.Helper()
	if data == "" {
		data = t.TempDir()
	}
	s := &server{t: t, data: data, args: args, env: env, done: make(chan struct{})}
	s.start()
	t.Cleanup(func() { s.kill() })
	return s
}

func (s *server) start() {
	s.t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data", s.data, "--public-url", "http://127.0.0.1:1"}, s.args...)
	bin := binary
	if s.bin != "" {
		bin = s.bin
	}
	name := bin
	if len(s.wrap) > 0 {
		name, args = s.wrap[0], append(append(append([]string(nil), s.wrap[1:]...), bin), args...)
	}
	s.cmd = exec.Command(name, args...)
	s.cmd.Env = append(append(os.Environ(), "PORT="), s.env...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	s.done = make(chan struct{})
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(line + "\n")
			s.mu.Unlock()
			if m := addrRe.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
		}
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	select {
	case a := <-addr:
		s.url = "http://" + a
	case <-s.done:
		s.t.Fatalf("server exited at start: %v\n%s", s.err, s.logText())
	case <-time.After(60 * time.Second):
		s.t.Fatalf("server did not start\n%s", s.logText())
	}
}

func (s *server) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// kill stops the server with SIGKILL: no chance to flush anything.
func (s *server) kill() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// stop sends SIGTERM and returns how long the process took to exit, and its exit error.
func (s *server) stop() (time.Duration, error) {
	start := time.Now()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		// SIGQUIT makes the Go runtime print every goroutine: where it is stuck.
		_ = s.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
		}
		s.t.Fatalf("server still running 30s after SIGTERM\n%s", s.logText())
	}
	return time.Since(start), s.err
}

// cli runs a client command against s and returns its stdout, stderr and exit code.
func (s *server) cli(args ...string) (string, string, int) {
	s.t.Helper()
	return s.cliEnv(nil, args...)
}

// cliEnv is cli with extra environment variables.
func (s *server) cliEnv(env []string, args ...string) (string, string, int) {
	s.t.Helper()
	return runDrainpipe(s.t, env, append(args, "--server", s.url, "--data", s.data)...)
}

// runDrainpipe runs the binary with args and returns its stdout, stderr and exit code.
func runDrainpipe(t testing.TB, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// addDrain adds a drain for app and returns its URL (with the secret) on this server.
func (s *server) addDrain(app string) string {
	s.t.Helper()
	out, errOut, code := s.cli("drains", "add", app, "--json")
	if code != 0 {
		s.t.Fatalf("drains add: exit %d: %s", code, errOut)
	}
	var d api.Drain
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		s.t.Fatalf("drains add --json: %v: %q", err, out)
	}
	if d.ID == "" || d.App != app || !strings.Contains(d.URL, d.ID+":") {
		s.t.Fatalf("drains add --json: %+v", d)
	}
	// The printed URL uses --public-url; send to the real address.
	return strings.Replace(d.URL, "127.0.0.1:1", strings.TrimPrefix(s.url, "http://"), 1)
}

// lines reads app's stored lines through `drainpipe tail --json`.
func (s *server) lines(app string, n int) []api.Line {
	s.t.Helper()
	out, errOut, code := s.cli("tail", app, "-n", fmt.Sprint(n), "--json")
	if code != 0 {
		s.t.Fatalf("tail: exit %d: %s", code, errOut)
	}
	var lines []api.Line
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var l api.Line
		if err := dec.Decode(&l); err != nil {
			s.t.Fatalf("tail --json: %v", err)
		}
		lines = append(lines, l)
	}
	return lines
}

// allLines reads every stored line of app, oldest first, through the admin API
// page by page (the lines endpoint that `tail --follow` uses), however many.
func (s *server) allLines(app string) []api.Line {
	s.t.Helper()
	token, err := os.ReadFile(filepath.Join(s.data, "admin-token"))
	if err != nil {
		s.t.Fatal(err)
	}
	c := api.NewClient(s.url, strings.TrimSpace(string(token)))
	var all []api.Line
	var after int64
	for {
		page, next, err := c.After(context.Background(), api.Search{App: app}, after, 0)
		if err != nil {
			s.t.Fatalf("read lines of %s: %v", app, err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = next
	}
}

// waitLines waits until app has at least n stored lines (the archive sink runs
// behind the 2xx) and returns them.
func (s *server) waitLines(app string, n int) []api.Line {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		lines := s.allLines(app)
		if len(lines) >= n || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// closingMarker posts a last line, "closing marker <n>", to the drain at drainURL
// (its host moved to the server's current address) and waits until app has it.
// The archive stores the journal in order, so when the marker is stored every line
// acknowledged before it is too, and so is any line stored twice: a test then
// counts what it sent without sleeping on the chance that more arrives. Lines may
// follow the marker: a batch whose sender gave up on it (a loader stopped) can
// still reach the journal after the marker; it was acknowledged to no one. It
// returns the marker's message.
func (s *server) closingMarker(drainURL, app string) string {
	s.t.Helper()
	u, err := url.Parse(drainURL)
	if err != nil {
		s.t.Fatal(err)
	}
	u.Host = strings.TrimPrefix(s.url, "http://")
	// Stamped now: the newest line by time as well as by id (tail shows lines by
	// their time, as heroku logs does).
	now := time.Now().UTC()
	msg := fmt.Sprintf("closing marker %d", now.UnixNano())
	line := "<190>1 " + now.Format("2006-01-02T15:04:05.000000Z07:00") + " host app web.1 - " + msg
	if code := post(s.t, u.String(), strings.NewReader(fmt.Sprintf("%d %s", len(line), line)), nil); code != http.StatusNoContent {
		s.t.Fatalf("closing marker: status %d", code)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		lines := s.allLines(app)
		if i := slices.IndexFunc(lines, func(l api.Line) bool { return l.Message == msg }); i >= 0 {
			if after := len(lines) - 1 - i; after > 0 {
				s.t.Logf("%d lines stored after the closing marker (id %d), the first %q (id %d): a batch its sender gave up on",
					after, lines[i].ID, lines[i+1].Message, lines[i+1].ID)
			}
			return msg
		}
		if time.Now().After(deadline) {
			// Say what was there instead: lines still arriving, or nothing
			// new at all.
			last := "none"
			if n := len(lines); n > 0 {
				last = fmt.Sprintf("id %d, %q", lines[n-1].ID, lines[n-1].Message)
			}
			s.t.Logf("server log:\n%s", s.logText())
			s.t.Fatalf("the closing marker of %s was not stored within 60 s: %d lines, the last %s; archive lines written %v",
				app, len(lines), last, s.metric("drainpipe_archive_lines_written_total"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// post sends body to a drain URL with headers and returns the status code.
func post(t testing.TB, url string, body io.Reader, headers map[string]string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// readFixture returns one of the Heroku drain fixtures (internal/testfixtures).
func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	return testfixtures.Read(t, name)
}

// waitMetric waits until the metric (summed over the samples matching labels) is
// at least min, and fails the test after 60 s.
func waitMetric(t *testing.T, s *server, name, labels string, min float64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		v := s.metric(name, labels)
		if v >= min {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s{%s} = %v after 60 s, want ≥ %v", name, labels, v, min)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// metric returns the sum of the samples of a metric whose line contains every
// one of the label matchers, as the server's /metrics shows them.
func (s *server) metric(name string, labels ...string) float64 {
	s.t.Helper()
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		var v float64
		if _, err := fmt.Sscan(line[strings.LastIndex(line, " ")+1:], &v); ok && err == nil {
			sum += v
		}
	}
	return sum
}

// logplexBody is a logplex body of one line per text, stamped t.
func logplexBody(t time.Time, texts ...string) []byte {
	var body []byte
	for _, text := range texts {
		body = logplex.AppendFrame(body, logplex.AppendMessage(nil,
			drainpipe.Record{Priority: 190, Time: t, Source: "app", Dyno: "web.1", Message: text}))
	}
	return body
}
