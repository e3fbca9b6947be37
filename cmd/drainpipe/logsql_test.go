package main_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
)

var (
	vlogscliOnce sync.Once
	vlogscliPath string
	vlogscliErr  error
)

// vlogscli builds VictoriaLogs' own command-line client (a tool of this module,
// see go.mod), once per test binary, beside the drainpipe binary under test.
func vlogscli(t *testing.T) string {
	t.Helper()
	vlogscliOnce.Do(func() {
		vlogscliPath = filepath.Join(filepath.Dir(binary), "vlogscli")
		out, err := exec.Command("go", "build", "-o", vlogscliPath, "github.com/VictoriaMetrics/VictoriaLogs/app/vlogscli").CombinedOutput()
		if err != nil {
			vlogscliErr = err
			vlogscliPath = string(out)
		}
	})
	if vlogscliErr != nil {
		t.Fatalf("build vlogscli: %v\n%s", vlogscliErr, vlogscliPath)
	}
	return vlogscliPath
}

// runVlogscli runs vlogscli against s with input on its stdin and returns what
// it printed. Its output goes to a file: it syncs stdout after each answer,
// which a pipe refuses.
func (s *server) runVlogscli(t *testing.T, input string, auth ...string) string {
	t.Helper()
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	args := append([]string{"-datasource.url=" + s.url + "/select/logsql/query", "-historyFile=" + filepath.Join(dir, "history")}, auth...)
	cmd := exec.Command(vlogscli(t), args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(input), out, out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("vlogscli: %v", err)
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("vlogscli did not finish in 60 s")
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (s *server) token(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestVlogscli(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	recs := shopLines()
	s.sendLines(t, s.addDrain("shop"), "shop", recs)
	bearer := "-bearerToken=" + s.token(t)

	// JSON lines: every field of the line, the message's logfmt pairs too.
	out := s.runVlogscli(t, "\\s\napp:=shop status:503;\n", bearer)
	var rows []map[string]string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "{") {
			var row map[string]string
			if err := json.Unmarshal([]byte(line), &row); err != nil {
				t.Fatalf("vlogscli printed %q: %v", line, err)
			}
			rows = append(rows, row)
		}
	}
	if len(rows) != 1 || rows[0]["code"] != "H12" || rows[0]["_msg"] != recs[1].Message || rows[0]["dyno"] != "router" || rows[0]["app"] != "shop" {
		t.Fatalf("vlogscli, JSON lines mode:\n%s", out)
	}
	// Compact mode, stats, a limit (newest first), a bad query.
	out = s.runVlogscli(t, "\\c\napp:=shop | stats by (status) count() n | sort by (status);\napp:=shop | sort by (_time desc) | limit 1 | fields _msg;\napp:=shop (;\n",
		"-username=grafana", "-password="+s.token(t))
	for _, want := range []string{"executing [app:=shop | stats by (status) count(*) as n | sort by (status)]", "\n5\n", // the lines without a status "status=200 n=1", "status=201 n=1", "status=503 n=1",
		"today line", "cannot parse query"} {
		if !strings.Contains(out, want) {
			t.Errorf("vlogscli compact mode: no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "Processing job 42") {
		t.Errorf("sort and limit 1 printed more than the newest line:\n%s", out)
	}
	// A wrong token.
	if out := s.runVlogscli(t, "* | limit 1;\n", "-bearerToken=wrong"); !strings.Contains(out, "unexpected status code: 401") {
		t.Errorf("vlogscli with a wrong token:\n%s", out)
	}
}

func TestVlogscliTail(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	drain := s.addDrain("shop")
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(vlogscli(t), "-datasource.url="+s.url+"/select/logsql/query", "-historyFile="+filepath.Join(dir, "history"), "-bearerToken="+s.token(t))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader("\\s\n\\tail app:=shop dyno:=\"worker.3\";\n"), out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		now := time.Now().UTC()
		post(t, drain, bytes.NewReader(recordsBody([]drainpipe.Record{
			{Time: now, Priority: 190, Source: "app", Dyno: "web.1", Message: "not tailed"},
			{Time: now, Priority: 190, Source: "app", Dyno: "worker.3", Message: "tailed"},
		})), logplexHeaders)
		b, _ := os.ReadFile(out.Name())
		if strings.Contains(string(b), "not tailed") {
			t.Fatalf("\\tail printed a line its query does not match:\n%s", b)
		}
		if strings.Contains(string(b), `"_msg":"tailed"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("\\tail printed no line in 60 s:\n%s", b)
		}
		time.Sleep(time.Second)
	}
}

// What the LogsQL API refuses, and how: VictoriaLogs' answers (400 and a
// sentence), drainpipe's own for the token (401) and the tenant.
func TestLogsQLAPIRefuses(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	s.sendLines(t, s.addDrain("shop"), "shop", shopLines())
	token := s.token(t)
	get := func(path string, header map[string]string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, s.url+path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	bearer := map[string]string{"Authorization": "Bearer " + token}
	if code, body := get("/select/logsql/query?query=*&limit=1", bearer); code != 200 || !strings.Contains(body, `"app":"shop"`) {
		t.Errorf("GET with a bearer token: %d %s", code, body)
	}
	for _, tt := range []struct {
		path   string
		header map[string]string
		code   int
		says   string
	}{
		{"/select/logsql/query?query=*", nil, 401, "admin token"},
		{"/select/logsql/query?query=*", map[string]string{"Authorization": "Bearer nope"}, 401, "admin token"},
		{"/select/logsql/query?query=*", map[string]string{"Authorization": "Bearer " + token, "AccountID": "3"}, 400, "tenant 0:0"},
		{"/select/logsql/query?query=", bearer, 400, "cannot be empty"},
		{"/select/logsql/query?query=" + strings.Repeat("a", 16<<10+1), bearer, 400, "cannot exceed"},
		{"/select/logsql/query?query=*&timeout=soon", bearer, 400, "timeout"},
		{"/select/logsql/query?query=*&start=yesterdayish", bearer, 400, "start"},
		{"/select/logsql/hits?query=*", bearer, 400, "step"},
		{"/select/logsql/tail?query=*+|+stats+count()", bearer, 400, "live tailing"},
		{"/select/logsql/stats_query?query=*", bearer, 422, "stats"},
	} {
		code, body := get(tt.path, tt.header)
		if code != tt.code || !strings.Contains(body, tt.says) {
			t.Errorf("%.80s: %d %q; want %d saying %q", tt.path, code, body, tt.code, tt.says)
		}
	}
}
