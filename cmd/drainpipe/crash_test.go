package main_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
	"github.com/drainpipe/drainpipe/logplex"
)

// loader sends numbered batches like logplex does: each batch is retried with the
// same Frame-Id until it is acknowledged, and only acknowledged batches count.
type loader struct {
	url    string
	lines  int
	limit  int // batches per sender; 0 sends until stopped
	mu     sync.Mutex
	acked  map[string]bool // every acknowledged line's text
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startLoader(url string, senders, lines int) *loader {
	return startLoaderN(url, senders, lines, 0)
}

// startLoaderN is startLoader with each sender stopping after batches batches, so
// that the volume does not depend on how fast the machine is.
func startLoaderN(url string, senders, lines, batches int) *loader {
	ctx, cancel := context.WithCancel(context.Background())
	l := &loader{url: url, lines: lines, limit: batches, acked: map[string]bool{}, cancel: cancel}
	for s := range senders {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for b := 0; ctx.Err() == nil && (l.limit == 0 || b < l.limit); b++ {
				l.sendUntilAcked(ctx, client, s, b)
			}
		}()
	}
	return l
}

func (l *loader) sendUntilAcked(ctx context.Context, client *http.Client, sender, batch int) {
	var body []byte
	var texts []string
	now := time.Now()
	for i := range l.lines {
		text := fmt.Sprintf("load s%d b%d l%d", sender, batch, i)
		texts = append(texts, text)
		msg := logplex.AppendMessage(nil, drainpipe.Record{Priority: 190, Time: now, Source: "app", Dyno: "web.1", Message: text})
		body = logplex.AppendFrame(body, msg)
	}
	frameID := fmt.Sprintf("s%d-b%d", sender, batch)
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, l.url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/logplex-1")
		req.Header.Set("Logplex-Frame-Id", frameID)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				l.mu.Lock()
				for _, t := range texts {
					l.acked[t] = true
				}
				l.mu.Unlock()
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wait waits for the senders to send their batches, and returns what was acknowledged.
func (l *loader) wait() map[string]bool {
	l.wg.Wait()
	return l.stop()
}

func (l *loader) stop() map[string]bool {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acked
}

// checkEveryAckedLine asserts that every acknowledged line is stored, and none
// twice, once a closing marker sent to drainURL is stored after them.
func checkEveryAckedLine(t *testing.T, s *server, drainURL, app string, acked map[string]bool) {
	t.Helper()
	marker := s.closingMarker(drainURL, app)
	lines := s.allLines(app)
	seen := map[string]int{}
	for _, l := range lines {
		if l.Message != marker {
			seen[l.Message]++
		}
	}
	missing, twice := 0, 0
	for text := range acked {
		if seen[text] == 0 {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged line missing: %q", text)
			}
		}
	}
	for text, n := range seen {
		if n > 1 {
			twice++
			if twice <= 5 {
				t.Errorf("line stored %d times: %q", n, text)
			}
		}
	}
	if missing > 0 || twice > 0 {
		t.Fatalf("%d acknowledged lines; %d missing, %d stored more than once", len(acked), missing, twice)
	}
	ids := map[int64]bool{}
	for _, l := range lines {
		if ids[l.ID] {
			t.Errorf("id %d given to two lines", l.ID)
		}
		ids[l.ID] = true
	}
	// The counts drains list shows are kept with the rows, exact across the
	// kills (they change once the rows are on disk, a moment after the lines
	// are searchable; a batch given up on may still be arriving).
	deadline := time.Now().Add(30 * time.Second)
	for d, n := s.drainOf(app), len(lines); d.Lines != int64(n); d, n = s.drainOf(app), len(s.allLines(app)) {
		if time.Now().After(deadline) {
			t.Errorf("drains list counts %d lines, the archive holds %d", d.Lines, n)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%d acknowledged lines, all stored once", len(acked))
}

// TestCrashLosesNoAcknowledgedLine kills the server with SIGKILL under load at
// random moments, restarts it on the same data, and checks every acknowledged
// line: in the archive exactly once, and in CloudWatch (the emulator) at least once.
// DRAINPIPE_SOAK=1 makes it a longer soak (30 kills).
func TestCrashLosesNoAcknowledgedLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	emu, url := startEmulator(t, cwlemu.Faults{})
	s := startServerEnv(t, dir, awsEnv(url), "--cloudwatch")
	u := s.addDrain("crash")
	kills := 3
	if os.Getenv("DRAINPIPE_SOAK") != "" {
		kills = 30
	}
	// The server's port changes at each start: the loader follows it through a proxy URL.
	proxy := newForwarder(t)
	proxy.to(s.url)
	l := startLoader(strings.Replace(u, strings.TrimPrefix(s.url, "http://"), proxy.addr, 1), 8, 50)
	for range kills {
		time.Sleep(time.Duration(300+rand.IntN(1200)) * time.Millisecond)
		s.kill()
		s.start()
		proxy.to(s.url)
	}
	time.Sleep(500 * time.Millisecond)
	acked := l.stop()
	if len(acked) == 0 {
		t.Fatal("no batch was acknowledged")
	}
	checkEveryAckedLine(t, s, u, "crash", acked)
	got := waitCloudWatchAll(t, emu, "/heroku/crash", acked)
	inCW := map[string]int{}
	dups := 0
	for _, m := range got {
		text := strings.TrimPrefix(m, "app[web.1]: ")
		if inCW[text]++; inCW[text] == 2 {
			dups++
		}
	}
	missing := 0
	for text := range acked {
		if inCW[text] == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d acknowledged lines missing from CloudWatch", missing)
	}
	t.Logf("CloudWatch holds every acknowledged line: %d events, %d lines sent twice (a kill between a put and its journal ack)", len(got), dups)
}

// TestGracefulShutdownUnderLoad sends SIGTERM under load: the server exits 0 within
// 10 s and every acknowledged line is there after a restart.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startServer(t, dir)
	u := s.addDrain("term")
	l := startLoader(u, 8, 50)
	time.Sleep(1500 * time.Millisecond)
	took, err := s.stop()
	acked := l.stop()
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, s.logText())
	}
	if took > 10*time.Second {
		t.Fatalf("took %v to exit after SIGTERM, want ≤ 10s", took)
	}
	s.start()
	checkEveryAckedLine(t, s, u, "term", acked)
}

// TestExternalNATS runs the server against a separate NATS JetStream server
// process (--nats), built from the nats-server module this project depends on.
func TestExternalNATS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	natsBin, err := natsBinary()
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	ns := exec.Command(natsBin, "-js", "-sd", filepath.Join(dir, "js"), "-a", "127.0.0.1", "-p", fmt.Sprint(port))
	if err := ns.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ns.Process.Kill(); _ = ns.Wait() })
	waitTCP(t, fmt.Sprintf("127.0.0.1:%d", port))

	s := startServer(t, "", "--nats", fmt.Sprintf("nats://127.0.0.1:%d", port))
	u := s.addDrain("external")
	body := readFixture(t, "heroku-drain-realistic.logplex")
	if code := post(t, u, bytes.NewReader(body), logplexHeaders); code != 204 {
		t.Fatalf("status %d", code)
	}
	if got := s.waitLines("external", 38); len(got) != 38 {
		t.Fatalf("stored %d lines, want 38", len(got))
	}
	// The drains live in the external server: a restarted node still has them.
	s.kill()
	old := s.url
	s.start()
	u = strings.Replace(u, strings.TrimPrefix(old, "http://"), strings.TrimPrefix(s.url, "http://"), 1)
	if code := post(t, u, bytes.NewReader(body), logplexHeaders); code != 204 {
		t.Fatalf("after restart: status %d, want the drain to survive in NATS", code)
	}
	if got := s.waitLines("external", 76); len(got) != 76 {
		t.Fatalf("stored %d lines, want 76", len(got))
	}
}

// freePort is a port on 127.0.0.1 that is free now, for a process that must
// listen on a port known in advance (a restart on the same address, a NATS
// cluster's routes). It is taken below the kernel's ephemeral range: a port
// from ":0" goes back into that range once closed, where any test's outgoing
// connection may take it before the process binds it (a nats-server of
// TestCluster once failed so in CI). No port is handed out twice.
func freePort(t *testing.T) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 1000 {
		port := 10000 + rand.IntN(22000) // below 32768, where Linux's ephemeral range starts by default
		if portsGiven[port] {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		ln.Close()
		portsGiven[port] = true
		return port
	}
	t.Fatal("no free port between 10000 and 32000")
	return 0
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

func waitTCP(t *testing.T, addr string) { t.Helper(); waitListening(t, addr, nil) }

// waitListening waits until addr takes connections, for up to 30 s, or fails
// the test at once when exited closes (the process that should listen ended).
func waitListening(t *testing.T, addr string, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("the process that should listen on %s exited", addr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s not listening after 30s", addr)
}
