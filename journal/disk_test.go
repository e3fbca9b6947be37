//go:build linux

package journal_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/internal/tmpfs"
	"github.com/drainpipe/drainpipe/journal"
	"github.com/prometheus/client_golang/prometheus"
)

// TestFullDisk fills the real disk under the journal (a 32 MB tmpfs) until the
// embedded server's writes fail with ENOSPC. Every Append must still answer within
// its context's deadline, with a retryable error; Ready must say the journal cannot
// write; once space returns the journal recovers by itself (no restart), takes new
// batches, delivers every acknowledged one, purges them, and closes promptly.
func TestFullDisk(t *testing.T) {
	t.Parallel()
	disk := tmpfs.Mount(t, "32m")
	reg := prometheus.NewRegistry()
	j, err := journal.Open(context.Background(), journal.Config{Dir: filepath.Join(disk, "journal"), MaxBytes: 16 << 20,
		Sinks: []string{"c"}, PublishTimeout: time.Second, HealthInterval: 100 * time.Millisecond,
		DedupWindow: time.Millisecond, PurgeInterval: 100 * time.Millisecond, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			j.Close()
		}
	})
	filler := tmpfs.Fill(t, disk, 3<<20)

	var acked []string
	var failure error
	for i := 0; failure == nil && i < 200; i++ {
		key := fmt.Sprintf("b%03d", i)
		err := appendWithin(t, j, batch("d1", key, 400), 2*time.Second)
		switch {
		case err == nil:
			acked = append(acked, key)
		case errors.Is(err, drainpipe.ErrUnavailable), errors.Is(err, drainpipe.ErrJournalFull), errors.Is(err, context.DeadlineExceeded):
			failure = err
		default:
			t.Fatalf("append %s: %v, want a retryable error", key, err)
		}
	}
	if failure == nil {
		t.Fatalf("%d appends fitted on a full disk", len(acked))
	}
	t.Logf("%d batches acknowledged, then: %v", len(acked), failure)
	// While the disk is full the journal says so, and answers at once.
	waitFor(t, 10*time.Second, "Ready to fail on a full disk", func() bool { return j.Ready() != nil })
	t.Logf("ready: %v", j.Ready())
	start := time.Now()
	if err := appendWithin(t, j, batch("d1", "while-full", 10), 2*time.Second); err == nil {
		t.Fatal("append on a full disk succeeded")
	} else if !errors.Is(err, drainpipe.ErrUnavailable) || time.Since(start) > time.Second {
		t.Errorf("append on a known-full disk: %v after %v, want ErrUnavailable at once", err, time.Since(start))
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the journal to recover once space returned", func() bool { return j.Ready() == nil })
	for i := range 5 {
		key := fmt.Sprintf("after%d", i)
		if err := appendWithin(t, j, batch("d1", key, 400), 5*time.Second); err != nil {
			t.Fatalf("append after space returned: %v", err)
		}
		acked = append(acked, key)
	}
	// An append that timed out may still have been stored (the server wrote it
	// after the client gave up): the sink keeps consuming until the stream is
	// empty, so those are delivered and purged too.
	c := &collector{name: "c"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- j.Consume(ctx, c, journal.ConsumeOptions{AckWait: time.Second}) }()
	waitFor(t, 30*time.Second, "every acknowledged batch to be delivered and purged", func() bool {
		keys := c.keys()
		for _, k := range acked {
			if !keys[k] {
				return false
			}
		}
		return counterValue(t, reg, "drainpipe_journal_messages") == 0
	})
	cancel()
	<-done
	start = time.Now()
	j.Close()
	closed = true
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
}

// appendWithin appends b with a deadline of d, and fails the test if Append does
// not answer by twice that.
func appendWithin(t *testing.T, j *journal.Journal, b *drainpipe.Batch, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := j.Append(ctx, b)
		errc <- err
	}()
	select {
	case err := <-errc:
		return err
	case <-time.After(2 * d):
		t.Fatalf("Append of %s did not answer within %v of its %v deadline", b.Key, 2*d, d)
		return nil
	}
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDiskReserve: with MinFreeBytes set, the journal refuses appends (at once,
// retryably) while its disk has less free, before the disk is full, and takes
// them again by itself once space returns.
func TestDiskReserve(t *testing.T) {
	t.Parallel()
	disk := tmpfs.Mount(t, "32m")
	j, err := journal.Open(context.Background(), journal.Config{Dir: filepath.Join(disk, "journal"), MaxBytes: 8 << 20,
		MinFreeBytes: 16 << 20, HealthInterval: 50 * time.Millisecond, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	if err := appendWithin(t, j, batch("d1", "before", 10), 2*time.Second); err != nil {
		t.Fatalf("append with room: %v", err)
	}
	filler := tmpfs.Fill(t, disk, 8<<20)
	waitFor(t, 10*time.Second, "Ready to fail under the reserve", func() bool { return j.Ready() != nil })
	t.Logf("ready: %v", j.Ready())
	start := time.Now()
	if err := appendWithin(t, j, batch("d1", "under", 10), 2*time.Second); !errors.Is(err, drainpipe.ErrUnavailable) || time.Since(start) > time.Second {
		t.Errorf("append under the reserve: %v after %v, want ErrUnavailable at once", err, time.Since(start))
	}
	if free := tmpfs.Free(t, disk); free < 4<<20 {
		t.Errorf("the journal left %d bytes free; the reserve should keep the disk from filling", free)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the journal to take appends once space returned", func() bool { return j.Ready() == nil })
	if err := appendWithin(t, j, batch("d1", "after", 10), 2*time.Second); err != nil {
		t.Fatalf("append after space returned: %v", err)
	}
}

// TestReserveUnderConcurrentAppends: while many appends race the free space
// reserve (some commits succeed as others find the disk under it), an Append
// either fails retryably or its batch is in the journal. Each round refills the
// disk to a little above the reserve; at the end every acknowledged batch must
// be delivered. The journal logs to a slow writer (a stderr nobody reads
// promptly), which widens the moments between its checks.
func TestReserveUnderConcurrentAppends(t *testing.T) {
	t.Parallel()
	const reserve = 16 << 20
	disk := tmpfs.Mount(t, "96m")
	j, err := journal.Open(context.Background(), journal.Config{Dir: filepath.Join(disk, "journal"), MaxBytes: 64 << 20,
		MinFreeBytes: reserve, HealthInterval: 20 * time.Millisecond, Registerer: prometheus.NewRegistry(),
		Logger: slog.New(slog.NewTextHandler(slowWriter{}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	var mu sync.Mutex
	acked := map[string]bool{}
	for round := range 12 {
		filler := tmpfs.Fill(t, disk, reserve+3<<20)
		var wg sync.WaitGroup
		for s := range 16 {
			wg.Go(func() {
				for b := 0; ; b++ {
					key := fmt.Sprintf("r%d s%d b%d", round, s, b)
					err := appendWithin(t, j, batch("d1", key, 200), 5*time.Second)
					if err != nil {
						return
					}
					mu.Lock()
					acked[key] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the journal to take appends again", func() bool { return j.Ready() == nil })
	}
	c := &collector{name: "c"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go j.Consume(ctx, c, journal.ConsumeOptions{AckWait: time.Second})
	missing := func() []string {
		got := c.keys()
		var out []string
		for k := range acked {
			if !got[k] {
				out = append(out, k)
			}
		}
		return out
	}
	deadline := time.Now().Add(30 * time.Second)
	for m := missing(); len(m) > 0; m = missing() {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged batches never delivered, e.g. %q", len(m), len(acked), m[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d acknowledged batches, all delivered", len(acked))
}

// slowWriter takes a millisecond per write.
type slowWriter struct{}

func (slowWriter) Write(p []byte) (int, error) {
	time.Sleep(time.Millisecond)
	return len(p), nil
}
