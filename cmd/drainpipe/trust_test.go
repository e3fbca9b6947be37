package main_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

// serveOnce runs `drainpipe serve` that is expected to refuse to start, and returns
// its exit code and stderr; a server that starts anyway is stopped after 30 s and
// fails the test.
func serveOnce(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(append(os.Environ(), "PORT="), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("serve %v started instead of refusing:\n%s", args, stderr.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return code, stderr.String()
}

// TestRefusesToStartOnBadConfiguration: a mistake in the environment, a flag or
// the admin-token file stops the server at start with one sentence naming it,
// instead of being ignored (issue 9 item 10, issue 16).
func TestRefusesToStartOnBadConfiguration(t *testing.T) {
	t.Parallel()
	emptyToken := t.TempDir()
	if err := os.WriteFile(filepath.Join(emptyToken, "admin-token"), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"bad size in the environment", []string{"DRAINPIPE_JOURNAL_MAX_BYTES=lots"}, nil, 2, "DRAINPIPE_JOURNAL_MAX_BYTES"},
		{"bad duration in the environment", []string{"DRAINPIPE_RETENTION=30 days"}, nil, 2, "DRAINPIPE_RETENTION"},
		{"bad number in the environment", []string{"DRAINPIPE_METRICS_MAX_SERIES=many"}, nil, 2, "DRAINPIPE_METRICS_MAX_SERIES"},
		{"bad switch in the environment", []string{"DRAINPIPE_METRICS=maybe"}, nil, 2, "DRAINPIPE_METRICS"},
		{"static dimension without a value", nil, []string{"--metrics-static-dimensions", "env=prod,region"}, 2, "region"},
		{"static dimension named app", nil, []string{"--metrics-static-dimensions", "app=x"}, 2, "app"},
		{"empty admin-token file", nil, []string{"--data", emptyToken}, 1, "admin token file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := tt.args
			if !strings.Contains(strings.Join(args, " "), "--data") {
				args = append(args, "--data", t.TempDir())
			}
			code, stderr := serveOnce(t, tt.env, args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want %d and a sentence naming %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out, _, code := runDrainpipe(t, nil, "--version")
	if code != 0 || !strings.HasPrefix(out, "drainpipe ") || !strings.Contains(out, "go1.") {
		t.Fatalf("--version: exit %d %q", code, out)
	}
}

// TestDamagedDrainStore: a drain store whose file was lost comes back empty; the
// server says so loudly and answers the drains it forgot with 503, which logplex
// retries, not 401, which it would take as final (issue 9 item 6). Deleting the
// state file accepts the loss.
func TestDamagedDrainStore(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	u := s.addDrain("damaged")
	if code := post(t, u, bytes.NewReader(logplexBody(time.Now(), "before")), logplexHeaders); code != 204 {
		t.Fatalf("status %d before the damage", code)
	}
	if _, err := s.stop(); err != nil {
		t.Fatal(err)
	}
	blk := filepath.Join(s.data, "journal", "jetstream", "$G", "streams", "KV_drainpipe_drains", "msgs", "1.blk")
	if err := os.Remove(blk); err != nil {
		t.Fatal(err)
	}
	s.start()
	u = strings.Replace(u, u[strings.Index(u, "@")+1:strings.Index(u, "/logs")], strings.TrimPrefix(s.url, "http://"), 1)
	resp := postResponse(t, u, string(logplexBody(time.Now(), "after")))
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a drain the store forgot: status %d, want 503 with Retry-After", resp.StatusCode)
	}
	// Its OTLP token alike: an exporter drops an export answered 401 too.
	if resp := postOTLP(t, s.url, u); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("OTLP from a drain the store forgot: status %d, want 503 with Retry-After", resp.StatusCode)
	}
	if h, err := http.Get(s.url + "/healthz"); err != nil || h.StatusCode != 503 {
		t.Fatalf("/healthz with a lost drain store: %v %v, want 503", h, err)
	}
	if !strings.Contains(s.logText(), "THE DRAIN STORE LOST ITS DRAINS") {
		t.Fatalf("nothing logged about the lost drains:\n%s", s.logText())
	}
	if n := s.metric("drainpipe_drain_store_lost"); n != 1 {
		t.Errorf("drainpipe_drain_store_lost = %v, want 1", n)
	}

	// The operator accepts the loss: unknown credentials are refused again.
	if _, err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(s.data, "drains.state")); err != nil {
		t.Fatal(err)
	}
	s.start()
	u = strings.Replace(u, u[strings.Index(u, "@")+1:strings.Index(u, "/logs")], strings.TrimPrefix(s.url, "http://"), 1)
	if resp := postResponse(t, u, string(logplexBody(time.Now(), "accepted"))); resp.StatusCode != 401 {
		t.Fatalf("after the loss was accepted: status %d, want 401", resp.StatusCode)
	}
	if resp := postOTLP(t, s.url, u); resp.StatusCode != 401 {
		t.Fatalf("OTLP after the loss was accepted: status %d, want 401", resp.StatusCode)
	}
}

// postResponse posts a logplex body and returns the answer, its body closed.
func postResponse(t *testing.T, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/logplex-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// postOTLP posts an empty OTLP/HTTP logs export to the server at base with the
// secret of drainURL as its x-drainpipe-token.
func postOTLP(t *testing.T, base, drainURL string) *http.Response {
	t.Helper()
	u, err := url.Parse(drainURL)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := u.User.Password()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/v1/logs", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Drainpipe-Token", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestDrainsListShowsLagAndErrors: while CloudWatch cannot be reached, `drains list`
// says so, with the sink's lag and its last error, instead of "ok" (issue 9 item 17).
func TestDrainsListShowsLagAndErrors(t *testing.T) {
	t.Parallel()
	emu, url := startEmulator(t, cwlemu.Faults{Down: true})
	s := startServerEnv(t, "", awsEnv(url), "--cloudwatch")
	u := s.addDrain("unreachable")
	if code := post(t, u, bytes.NewReader(logplexBody(time.Now(), "a", "b")), logplexHeaders); code != 204 {
		t.Fatalf("status %d", code)
	}
	deadline := time.Now().Add(60 * time.Second)
	var out string
	for {
		out, _, _ = s.cli("drains", "list")
		if strings.Contains(out, "cloudwatch=lag ") && strings.Contains(out, "last error") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("drains list while CloudWatch is down:\n%s\nwant cloudwatch's lag and last error", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	emu.SetFaults(cwlemu.Faults{})
	deadline = time.Now().Add(60 * time.Second)
	for {
		out, _, _ = s.cli("drains", "list")
		if strings.Contains(out, "cloudwatch=ok") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("drains list after CloudWatch came back:\n%s\nwant cloudwatch=ok", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
