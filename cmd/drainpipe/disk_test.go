//go:build linux

package main_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/internal/tmpfs"
	"github.com/drainpipe/drainpipe/logplex"
)

// TestSmallDiskDefaultJournalCap starts the server with the default 4 GiB journal
// cap on a 64 MB disk: it must refuse to start with a sentence that names the
// flag to lower, what is free, and a value that fits; that value must then work.
func TestSmallDiskDefaultJournalCap(t *testing.T) {
	t.Parallel()
	disk := tmpfs.Mount(t, "64m")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "--listen", "127.0.0.1:0", "--data", disk+"/data", "--metrics=false")
	cmd.Env = append(os.Environ(), "PORT=", "DRAINPIPE_JOURNAL_MAX_BYTES=")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("serve on a 64 MB disk with a 4 GiB journal cap: %v, want exit status 1\n%s", err, out)
	}
	msg := string(out)
	m := regexp.MustCompile(`lower --journal-max-bytes to (\d+)MiB or less`).FindStringSubmatch(msg)
	if m == nil || !strings.Contains(msg, "journal cap of 4.0 GiB") || !regexp.MustCompile(`\d+ MiB free`).MatchString(msg) {
		t.Fatalf("serve said:\n%s\nwant the cap, what is free, and which flag to lower to what", msg)
	}
	s := startServer(t, disk+"/data", "--journal-max-bytes", m[1]+"MiB", "--metrics=false")
	if code := post(t, s.addDrain("small"), strings.NewReader(""), nil); code != 204 {
		t.Fatalf("with --journal-max-bytes %sMiB, a post answered %d", m[1], code)
	}
}

// fullLoad sends 100 KB logplex batches from several senders, as logplex does:
// each batch is retried with its Frame-Id until acknowledged. It records every
// acknowledged line and every answer that breaks the contract: slower than the
// receiver's 4 s journal timeout allows, or an error other than 503 with
// Retry-After.
type fullLoad struct {
	url    string
	prefix string
	mu     sync.Mutex
	acked  map[string]bool
	codes  map[int]int
	bad    []string
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startFullLoad(url, prefix string, senders int) *fullLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &fullLoad{url: url, prefix: prefix, acked: map[string]bool{}, codes: map[int]int{}, cancel: cancel}
	for s := range senders {
		l.wg.Go(func() {
			client := &http.Client{Timeout: 6 * time.Second}
			for b := 0; ctx.Err() == nil && b < 1000; b++ {
				l.send(ctx, client, fmt.Sprintf("%s s%d b%d", prefix, s, b))
			}
		})
	}
	return l
}

// send posts one batch of 400 lines of 250 bytes until it is acknowledged.
func (l *fullLoad) send(ctx context.Context, client *http.Client, name string) {
	var body []byte
	var texts []string
	now := time.Now()
	for i := range 400 {
		text := fmt.Sprintf("%s l%03d %s", name, i, strings.Repeat("x", 220))
		texts = append(texts, text)
		body = logplex.AppendFrame(body, logplex.AppendMessage(nil, drainpipe.Record{Priority: 190, Time: now, Source: "app", Dyno: "web.1", Message: text}))
	}
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, l.url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/logplex-1")
		req.Header.Set("Logplex-Frame-Id", name)
		start := time.Now()
		resp, err := client.Do(req)
		took := time.Since(start)
		if ctx.Err() != nil {
			return
		}
		l.mu.Lock()
		switch {
		case err != nil:
			l.bad = append(l.bad, fmt.Sprintf("%s: %v after %v", name, err, took))
		case resp.StatusCode == http.StatusNoContent:
			for _, t := range texts {
				l.acked[t] = true
			}
		case resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "":
			l.bad = append(l.bad, fmt.Sprintf("%s: %s (Retry-After %q)", name, resp.Status, resp.Header.Get("Retry-After")))
		}
		if err == nil {
			resp.Body.Close()
			l.codes[resp.StatusCode]++
			if took > 5*time.Second {
				l.bad = append(l.bad, fmt.Sprintf("%s: %s after %v, over the 4 s journal timeout", name, resp.Status, took))
			}
		}
		done := err == nil && resp.StatusCode == http.StatusNoContent
		l.mu.Unlock()
		if done {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (l *fullLoad) count(code int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.codes[code]
}

// stop stops the senders and returns the acknowledged lines and the broken answers.
func (l *fullLoad) stop() (map[string]bool, []string) {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acked, l.bad
}

// fillUntil503 loads s until the full disk has been answered 503 n times.
func fillUntil503(t *testing.T, s *server, url, prefix string, n int) map[string]bool {
	t.Helper()
	l := startFullLoad(url, prefix, 4)
	deadline := time.Now().Add(90 * time.Second)
	for l.count(http.StatusServiceUnavailable) < n && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	acked, bad := l.stop()
	for i, b := range bad {
		if i < 10 {
			t.Errorf("answer on a full disk: %s", b)
		}
	}
	if len(bad) > 0 || l.count(http.StatusServiceUnavailable) < n {
		t.Fatalf("%d bad answers, %d × 503 (want %d), %d × 204\n%s", len(bad), l.count(503), n, l.count(204), s.logText())
	}
	t.Logf("%s: %d × 204, %d × 503, all within the journal timeout", prefix, l.count(204), l.count(503))
	return acked
}

func httpStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestFullDisk fills the real disk under the data directory (a tmpfs) while four
// senders post 100 KB batches, until the journal's free space reserve stops them
// (the archive's engine, on the same disk, must keep room to flush). Every request must be answered within the journal
// timeout: 204, or 503 with Retry-After. /healthz stays 200 (alive) while /readyz
// says the journal cannot write. When space returns the server recovers by itself;
// SIGTERM on a full disk exits within 10 s; and every acknowledged line is stored.
func TestFullDisk(t *testing.T) {
	t.Parallel()
	disk := tmpfs.Mount(t, "128m")
	data := filepath.Join(disk, "data")
	s := startServer(t, data, "--journal-max-bytes", "32MiB", "--metrics=false")
	u := s.addDrain("full")
	// The filler leaves more than the journal's reserve (32 MiB): the senders
	// fill the rest until the journal refuses them.
	filler := tmpfs.Fill(t, disk, 48<<20)

	acked := fillUntil503(t, s, u, "first", 20)
	if code, _ := httpStatus(t, s.url+"/healthz"); code != 200 {
		t.Errorf("/healthz answered %d on a full disk; it says whether the process is alive", code)
	}
	waitStatus(t, s.url+"/readyz", 503, 15*time.Second)

	// Space returns: the server takes drains again by itself.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, s.url+"/readyz", 200, 60*time.Second)
	if code := post(t, s.addDrain("afterwards"), strings.NewReader(""), nil); code != 204 {
		t.Errorf("a drain added after the disk recovered answered %d", code)
	}

	// Full again, then SIGTERM: the process stops within the promised 10 s.
	filler = tmpfs.Fill(t, disk, 40<<20)
	for k := range fillUntil503(t, s, u, "second", 10) {
		acked[k] = true
	}
	took, err := s.stop()
	if err != nil || took > 10*time.Second {
		t.Errorf("SIGTERM on a full disk: exit %v after %v, want 0 within 10 s\n%s", err, took, s.logText())
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	s.start()
	checkEveryAckedLine(t, s, u, "full", acked)
}

func waitStatus(t *testing.T, url string, want int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		code, body := httpStatus(t, url)
		if code == want {
			t.Logf("%s: %d %s", url, code, strings.TrimSpace(body))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s answered %d %q for %v, want %d", url, code, body, d, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
