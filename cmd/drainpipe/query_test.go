package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/logplex"
)

// shopLines are a Heroku app's lines of yesterday morning (UTC) and one of a
// few minutes ago, in the order they are sent.
func shopLines() []drainpipe.Record {
	now := time.Now().UTC()
	y := time.Date(now.Year(), now.Month(), now.Day(), 10, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	rec := func(sec int, source, dyno, msg string) drainpipe.Record {
		return drainpipe.Record{Time: y.Add(time.Duration(sec) * time.Second), Priority: 190, Host: "host", Source: source, Dyno: dyno, Message: msg}
	}
	recs := []drainpipe.Record{
		rec(0, "heroku", "router", `at=info method=GET path="/" host=shop.herokuapp.com request_id=r1 fwd="1.2.3.4" dyno=web.1 connect=1ms service=12ms status=200 bytes=512 protocol=https`),
		rec(1, "heroku", "router", `at=error code=H12 desc="Request timeout" method=GET path="/slow" host=shop.herokuapp.com request_id=r2 fwd="1.2.3.4" dyno=web.2 connect=1ms service=30000ms status=503 bytes=0 protocol=https`),
		rec(2, "app", "web.1", `Started GET "/" for 1.2.3.4`),
		rec(3, "app", "web.2", `Completed 500 Internal Server Error in 12ms`),
		rec(4, "heroku", "web.2", `Error R14 (Memory quota exceeded)`),
		rec(5, "app", "worker.1", `Processing job 42`),
		rec(6, "heroku", "router", `at=info method=POST path="/checkout" host=shop.herokuapp.com request_id=r3 fwd="1.2.3.4" dyno=web.1 connect=1ms service=40ms status=201 bytes=80 protocol=https`),
	}
	today := rec(0, "app", "web.1", "today line")
	today.Time = now.Add(-10 * time.Minute)
	return append(recs, today)
}

// recordsBody is recs as a logplex request body.
func recordsBody(recs []drainpipe.Record) []byte {
	var body []byte
	for _, r := range recs {
		body = logplex.AppendFrame(body, logplex.AppendMessage(nil, r))
	}
	return body
}

// sendLines posts recs to app's drain in batches and waits until they are stored.
func (s *server) sendLines(t *testing.T, url, app string, recs []drainpipe.Record) {
	t.Helper()
	for i := 0; i < len(recs); i += 1000 {
		body := recordsBody(recs[i:min(i+1000, len(recs))])
		if code := post(t, url, bytes.NewReader(body), logplexHeaders); code != 204 {
			t.Fatalf("post: status %d", code)
		}
	}
	if got := s.waitLines(app, len(recs)); len(got) < len(recs) {
		t.Fatalf("%d lines stored, want %d", len(got), len(recs))
	}
}

// messages runs a client command and returns the messages of the lines it
// prints (as `heroku logs` does), in order.
func (s *server) messages(t *testing.T, args ...string) []string {
	t.Helper()
	out, errOut, code := s.cli(args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errOut)
	}
	var msgs []string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		_, msg, ok := strings.Cut(line, "]: ")
		if !ok {
			t.Fatalf("%v printed %q, not a line as heroku logs prints it", args, line)
		}
		msgs = append(msgs, msg)
	}
	return msgs
}

func TestHerokuWordsAndFlags(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	recs := shopLines()
	s.sendLines(t, s.addDrain("shop"), "shop", recs)
	msg := func(i ...int) []string {
		var out []string
		for _, k := range slices.Backward(i) { // newest first, as search prints
			out = append(out, recs[k].Message)
		}
		return out
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"web.1"}, msg(0, 2, 6, 7)},
		{[]string{"status=503"}, msg(1)},
		{[]string{"code=H12"}, msg(1)},
		{[]string{"/slow"}, msg(1)},
		{[]string{`"Request timeout"`}, msg(1)},
		{[]string{"H12 OR R14"}, msg(1, 4)},
		{[]string{"status>=500"}, msg(1)},
		{[]string{"status=5xx"}, msg(1)},
		{[]string{"app[web.2]"}, msg(3)},
		{[]string{"NOT router"}, msg(2, 3, 4, 5, 7)},
		{[]string{"status:201"}, msg(6)}, // LogsQL as it is
		{[]string{"--dyno", "web"}, msg(2, 3, 4, 7)},
		{[]string{"--dyno", "web.2", "--source", "heroku"}, msg(4)},
		{[]string{"--source", "heroku"}, msg(0, 1, 4, 6)},
		{[]string{"--since", "yesterday", "--until", "yesterday"}, msg(0, 1, 2, 3, 4, 5, 6)},
		{[]string{"--since", "today"}, msg(7)},
		{[]string{"--since", recs[2].Time.Format(time.RFC3339), "--until", recs[4].Time.Format(time.RFC3339)}, msg(2, 3)},
		{[]string{"--since", "1h"}, msg(7)},
		{[]string{"--limit", "2"}, msg(6, 7)},
		{[]string{"--oldest-first", "--limit", "2"}, msg(1, 0)},
	}
	for _, tt := range tests {
		args := append([]string{"search", "shop"}, tt.args...)
		if got := s.messages(t, args...); !slices.Equal(got, tt.want) {
			t.Errorf("%v:\n got %q\nwant %q", args, got, tt.want)
		}
	}
	// export: every line, oldest first, as text or JSON.
	if got, want := s.messages(t, "export", "shop"), recMessages(recs); !slices.Equal(got, want) {
		t.Errorf("export:\n got %q\nwant %q", got, want)
	}
	out, _, code := s.cli("export", "shop", "--dyno", "web", "--json")
	if lines := decodeLines(t, out); code != 0 || len(lines) != 4 || lines[0].Message != recs[2].Message || lines[0].Dyno != "web.1" || !lines[0].Time.Equal(recs[2].Time) {
		t.Errorf("export --dyno web --json: exit %d:\n%s", code, out)
	}
	// tail: the newest lines, oldest first; any number of them.
	if got := s.messages(t, "tail", "shop", "-n", "2", "--dyno", "web"); !slices.Equal(got, []string{recs[4].Message, recs[7].Message}) {
		t.Errorf("tail -n 2 --dyno web: %q", got)
	}
	if got := s.messages(t, "tail", "shop", "-n", "250000"); !slices.Equal(got, recMessages(recs)) {
		t.Errorf("tail -n 250000: %q", got)
	}
}

func recMessages(recs []drainpipe.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Message)
	}
	return out
}

func decodeLines(t *testing.T, out string) []api.Line {
	t.Helper()
	var lines []api.Line
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var l api.Line
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("decode %q: %v", out, err)
		}
		lines = append(lines, l)
	}
	return lines
}

func TestContextAndPermalink(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	recs := shopLines()
	s.sendLines(t, s.addDrain("shop"), "shop", recs)
	out, _, _ := s.cli("search", "shop", "app[web.2]", "--json")
	hit := decodeLines(t, out)
	if len(hit) != 1 {
		t.Fatalf("search app[web.2]: %s", out)
	}
	id := strconv.FormatInt(hit[0].ID, 10)
	out, errOut, code := s.cli("context", id, "-B", "2", "-A", "1")
	want := fmt.Sprintf("  %s\n  %s\n> %s\n  %s\n", heroku(recs[1]), heroku(recs[2]), heroku(recs[3]), heroku(recs[4]))
	if code != 0 || out != want {
		t.Errorf("context %s: exit %d %s\n got %q\nwant %q", id, code, errOut, out, want)
	}
	out, _, code = s.cli("context", id, "-B", "1", "-A", "0", "--json")
	var c api.Context
	if err := json.Unmarshal([]byte(out), &c); err != nil || code != 0 || c.Line.ID != hit[0].ID || len(c.Before) != 1 || len(c.After) != 0 || c.Before[0].Message != recs[2].Message {
		t.Errorf("context --json: exit %d, %v:\n%s", code, err, out)
	}
	c2 := s.client(t)
	l, err := c2.Line(context.Background(), hit[0].ID)
	if err != nil || l.Message != recs[3].Message || l.App != "shop" {
		t.Errorf("GET /api/lines/%s: %+v, %v", id, l, err)
	}
	for _, tt := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"context", "abc"}, 2, "usage"},
		{[]string{"context", "123456789012"}, 1, "does not exist"},
		{[]string{"search", "shop", "(H12"}, 2, "not closed"},
		{[]string{"search", "shop", "H12 | stats count()"}, 2, "pipes"},
		{[]string{"search", "shop", "--since", "tomorrow"}, 2, "--since"},
		{[]string{"export", "shop", "--since", "today", "--until", "yesterday"}, 2, "not before"},
		{[]string{"metrics", "shop", "--since", "1m", "--until", "1h"}, 2, "--since 1m is not before --until 1h"},
		{[]string{"tail", "shop", "-n", "-1"}, 2, "usage"},
	} {
		_, errOut, code := s.cli(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.says) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one sentence saying %q", tt.args, code, errOut, tt.code, tt.says)
		}
	}
	// A query that starts with "-" is read as a flag: the usage, and how to write it.
	if _, errOut, code := s.cli("search", "shop", "-web.1"); code != 2 || !strings.Contains(errOut, "goes after --: drainpipe search APP -- -web.1") {
		t.Errorf("search shop -web.1: exit %d, stderr %q; want 2 and the way to write it", code, errOut)
	}
}

// heroku is r as `heroku logs` prints it.
func heroku(r drainpipe.Record) string {
	return r.Time.UTC().Format(api.HerokuTime) + " " + r.Source + "[" + r.Dyno + "]: " + r.Message
}

// client is an admin API client of s.
func (s *server) client(t *testing.T) *api.Client {
	t.Helper()
	token, err := os.ReadFile(filepath.Join(s.data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	return api.NewClient(s.url, strings.TrimSpace(string(token)))
}

func TestHitsFacetsAndPages(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	recs := shopLines()
	s.sendLines(t, s.addDrain("shop"), "shop", recs)
	c := s.client(t)
	ctx := context.Background()
	day := recs[0].Time.Truncate(24 * time.Hour)
	h, err := c.Hits(ctx, api.HitsRequest{Search: api.Search{App: "shop", Since: day, Until: day.Add(24 * time.Hour)}, Step: time.Hour, By: "status"})
	if err != nil {
		t.Fatal(err)
	}
	byStatus := map[string]int64{}
	for _, series := range h.Series {
		byStatus[series.Value] = series.Counts[10] // 10:00 UTC
	}
	if len(h.Times) != 24 || h.Total != 7 || byStatus["200"] != 1 || byStatus["503"] != 1 || byStatus["201"] != 1 || byStatus[""] != 4 {
		t.Errorf("hits by status: %d intervals, total %d, at 10:00 %v", len(h.Times), h.Total, byStatus)
	}
	f, err := c.Facets(ctx, api.FacetsRequest{Search: api.Search{App: "shop", Since: day}, Fields: []string{"dyno"}, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if f.Total != 8 || len(f.Facets) != 1 || f.Facets[0].Values[0] != (api.FacetValue{Value: "router", Count: 3}) || f.Facets[0].Other != 8-3-f.Facets[0].Values[1].Count {
		t.Errorf("facets of dyno: %+v", f)
	}
	// Pages: every line once, in order, however small the pages.
	var got []string
	req := api.PageRequest{Search: api.Search{App: "shop"}, Limit: 3, OldestFirst: true}
	for {
		p, err := c.Search(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range p.Lines {
			got = append(got, l.Message)
		}
		if p.Next == "" {
			break
		}
		req.Cursor = p.Next
	}
	if !slices.Equal(got, recMessages(recs)) {
		t.Errorf("pages of 3: %q", got)
	}
}

func TestFollowKeepsTheFilters(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	url := s.addDrain("shop")
	s.sendLines(t, url, "shop", shopLines()[:1])
	cmd := exec.Command(binary, "tail", "shop", "-n", "0", "-f", "--dyno", "worker", "--server", s.url, "--data", s.data)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	now := time.Now().UTC()
	recs := []drainpipe.Record{
		{Time: now, Priority: 190, Source: "app", Dyno: "web.1", Message: "not followed"},
		{Time: now, Priority: 190, Source: "app", Dyno: "worker.3", Message: "followed"},
	}
	// The follower may start after the first send: send until its line shows.
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	s.sendLines(t, url, "shop", recs)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("tail --follow ended")
			}
			if strings.Contains(l, "not followed") {
				t.Fatalf("tail -f --dyno worker printed %q", l)
			}
			if strings.HasSuffix(l, "app[worker.3]: followed") {
				return
			}
			t.Fatalf("tail -f printed %q", l)
		case <-tick.C:
			post(t, url, bytes.NewReader(recordsBody(recs)), logplexHeaders)
		case <-deadline:
			t.Fatal("tail --follow --dyno worker printed nothing in 60 s")
		}
	}
}

// Progress goes to stderr only when it is a terminal: under `script` (a
// pseudo-terminal, util-linux), and not into a file.
func TestExportProgressOnATerminal(t *testing.T) {
	t.Parallel()
	script, err := exec.LookPath("script")
	if err != nil {
		t.Fatal("script (util-linux) is needed to give export a terminal: apt-get install bsdutils")
	}
	s := startServer(t, "")
	recs := shopLines()
	s.sendLines(t, s.addDrain("shop"), "shop", recs)
	out := filepath.Join(t.TempDir(), "out")
	shell := fmt.Sprintf("%s export shop --server %s --data %s > %s", binary, s.url, s.data, out)
	tty, err := exec.Command(script, "-qec", shell, "/dev/null").CombinedOutput()
	if err != nil {
		t.Fatalf("script: %v: %s", err, tty)
	}
	if !strings.Contains(string(tty), "8 lines") {
		t.Errorf("export on a terminal: no progress in %q", tty)
	}
	if b, _ := os.ReadFile(out); strings.Count(string(b), "\n") != len(recs) {
		t.Errorf("export on a terminal wrote %q", b)
	}
	if _, errOut, code := s.cli("export", "shop"); code != 0 || errOut != "" {
		t.Errorf("export with stderr not a terminal: exit %d, stderr %q", code, errOut)
	}
}

// On a terminal, what a log line holds is shown, not obeyed, in every form
// export prints: text and --json (JSON writes DEL, C1 and bidi controls as
// they are unless told).
func TestExportOnATerminalEscapes(t *testing.T) {
	t.Parallel()
	script, err := exec.LookPath("script")
	if err != nil {
		t.Fatal("script (util-linux) is needed to give export a terminal: apt-get install bsdutils")
	}
	s := startServer(t, "")
	hostile := "title\x1b]0;owned\x07 csi\u009b2J rlo\u202egpj.exe del\x7f"
	s.sendLines(t, s.addDrain("shop"), "shop", []drainpipe.Record{rec(time.Now(), "app", "web.1", 190, hostile)})
	for _, c := range []struct {
		flags string
		want  string
	}{
		{"", `title\x1b]0;owned\a csi\u009b2J rlo\u202egpj.exe del\x7f`},
		{"--json", `title\u001b]0;owned\u0007 csi\u009b2J rlo\u202egpj.exe del\u007f`},
	} {
		shell := fmt.Sprintf("%s export shop %s --server %s --data %s 2>/dev/null", binary, c.flags, s.url, s.data)
		tty, err := exec.Command(script, "-qec", shell, "/dev/null").CombinedOutput()
		if err != nil {
			t.Fatalf("script: %v: %s", err, tty)
		}
		if !strings.Contains(string(tty), c.want) {
			t.Errorf("export %s on a terminal printed %q, want it to hold %q", c.flags, tty, c.want)
		}
		if strings.ContainsAny(string(tty), "\x1b\x07\x7f\u009b\u202e") {
			t.Errorf("export %s on a terminal printed a control character: %q", c.flags, tty)
		}
	}
}
