package main_test

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

// TestShutdownWithCloudWatchUnreachable posts the realistic fixture (metrics
// pending), two lines 20 days old and fresh lines, then stops the CloudWatch
// endpoint and sends SIGTERM: the server must exit 0 within the 10 s the README
// promises, and what it could not deliver stays in the journal, delivered once
// CloudWatch is back.
func TestShutdownWithCloudWatchUnreachable(t *testing.T) {
	t.Parallel()
	emu, url := startEmulator(t, cwlemu.Faults{})
	s := startServerEnv(t, "", awsEnv(url), "--cloudwatch")
	u := s.addDrain("unreachable")
	if code := post(t, u, bytes.NewReader(readFixture(t, "heroku-drain-realistic.logplex")), logplexHeaders); code != 204 {
		t.Fatalf("fixture: status %d", code)
	}
	old := logplexBody(time.Now().Add(-20*24*time.Hour),
		"at=info method=GET path=/ host=x.herokuapp.com fwd=1.2.3.4 dyno=web.1 connect=1ms service=20ms status=200 bytes=10 protocol=https",
		"sample#memory_rss=120MB")
	if code := post(t, u, bytes.NewReader(old), nil); code != 204 {
		t.Fatalf("old lines: status %d", code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for s.metric("drainpipe_sink_delivered_lines_total", `sink="metrics"`) < 40 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if err := emu.Close(); err != nil {
		t.Fatal(err)
	}
	var fresh []string
	for i := range 50 {
		fresh = append(fresh, fmt.Sprintf("fresh line %d", i))
	}
	if code := post(t, u, bytes.NewReader(logplexBody(time.Now(), fresh...)), nil); code != 204 {
		t.Fatalf("fresh lines: status %d", code)
	}
	took, err := s.stop()
	if err != nil || took > 10*time.Second {
		t.Fatalf("SIGTERM with CloudWatch unreachable: exit %v after %v, want 0 within 10 s\n%s", err, took, s.logText())
	}
	t.Logf("stopped in %v", took)

	if _, err := emu.Listen(strings.TrimPrefix(url, "http://")); err != nil {
		t.Fatal(err)
	}
	s.start()
	deadline = time.Now().Add(60 * time.Second)
	for {
		got := map[string]bool{}
		for _, m := range cloudwatchLines(emu, "/heroku/unreachable") {
			got[strings.TrimPrefix(m, "app[web.1]: ")] = true
		}
		missing := 0
		for _, f := range fresh {
			if !got[f] {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d lines acknowledged before the shutdown never reached CloudWatch after it", missing, len(fresh))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestShutdownWithNATSFrozen: a node whose NATS server stops answering (frozen
// with SIGSTOP: connections open, nothing answered) still exits 0 within 10 s of
// SIGTERM; leaving the cluster waits on NATS only as long as the budget allows.
func TestShutdownWithNATSFrozen(t *testing.T) {
	t.Parallel()
	natsBin, err := natsBinary()
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	ns := exec.Command(natsBin, "-js", "-sd", filepath.Join(t.TempDir(), "js"), "-a", "127.0.0.1", "-p", fmt.Sprint(port))
	if err := ns.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ns.Process.Kill(); _ = ns.Wait() })
	waitTCP(t, fmt.Sprintf("127.0.0.1:%d", port))
	s := startServer(t, "", "--nats", fmt.Sprintf("nats://127.0.0.1:%d", port), "--node", "frozen-1")
	u := s.addDrain("frozen")
	if code := post(t, u, bytes.NewReader(logplexBody(time.Now(), "before the freeze")), nil); code != 204 {
		t.Fatalf("status %d", code)
	}
	s.waitLines("frozen", 1)
	if err := ns.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	took, err := s.stop()
	if err != nil || took > 10*time.Second {
		t.Fatalf("SIGTERM with NATS frozen: exit %v after %v, want 0 within 10 s\n%s", err, took, s.logText())
	}
	t.Logf("stopped in %v", took)
}
