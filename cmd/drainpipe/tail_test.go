package main_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTailFollowsAcrossARestart: `tail -f` keeps following when the server
// restarts, and prints every line once, in order (issue 9 item 19). The server's
// port changes at each start: the client reaches it through a forwarder on a fixed
// port, as it would through a load balancer.
func TestTailFollowsAcrossARestart(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	proxy := newForwarder(t)
	proxy.to(s.url)
	u := strings.Replace(s.addDrain("follow"), strings.TrimPrefix(s.url, "http://"), proxy.addr, 1)
	send := func(msgs ...string) {
		t.Helper()
		if code := post(t, u, bytes.NewReader(logplexBody(time.Now(), msgs...)), logplexHeaders); code != 204 {
			t.Fatalf("post %v: status %d", msgs, code)
		}
	}
	send("before-1", "before-2")
	s.waitLines("follow", 2)

	cmd := exec.Command(binary, "tail", "follow", "-f", "--server", "http://"+proxy.addr, "--data", s.data)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	printed := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			printed <- sc.Text()
		}
		close(printed)
	}()
	var got []string
	readUntil := func(marker string) {
		t.Helper()
		deadline := time.After(60 * time.Second)
		for {
			select {
			case line, ok := <-printed:
				if !ok {
					t.Fatalf("tail -f exited; printed %q; stderr %s", got, stderr.String())
				}
				_, msg, _ := strings.Cut(line, "app[web.1]: ")
				got = append(got, msg)
				if msg == marker {
					return
				}
			case <-deadline:
				t.Fatalf("no %q after 60 s; printed %q; stderr %s", marker, got, stderr.String())
			}
		}
	}
	readUntil("before-2")
	send("during-1")
	readUntil("during-1")

	if _, err := s.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	s.start()
	proxy.to(s.url)
	send("after-1", "after-2")
	send("end") // the closing marker: every line before it has been printed once
	readUntil("end")
	want := []string{"before-1", "before-2", "during-1", "after-1", "after-2", "end"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("tail -f printed %q, want %q", got, want)
	}
	// stderr is copied from the process's pipe: wait for the line, do not assume it.
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stderr.String(), "the server is back"); {
		if time.Now().After(deadline) {
			t.Fatalf("tail -f did not say it lost the server and found it again: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lockedBuffer is a buffer that a process's output is copied into while a test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
