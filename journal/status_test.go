package journal_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/journal"
)

// TestSinkStatus: a sink's status carries its lag and its last failed Write, which
// clears when a Write succeeds.
func TestSinkStatus(t *testing.T) {
	t.Parallel()
	j := open(t, journal.Config{})
	ctx := context.Background()
	if _, err := j.Append(ctx, batch("d", "", 3)); err != nil {
		t.Fatal(err)
	}
	c := &collector{name: "flaky", fail: 1 << 30}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- j.Consume(cctx, c, journal.ConsumeOptions{AckWait: time.Second}) }()
	defer func() { cancel(); <-done }()
	waitStatus(t, j, "flaky", func(st journal.SinkStatus) bool {
		return strings.Contains(st.LastError, "injected failure") && !st.LastErrorAt.IsZero() && st.Lag > 0
	})
	c.mu.Lock()
	c.fail = 0
	c.mu.Unlock()
	waitStatus(t, j, "flaky", func(st journal.SinkStatus) bool { return st.LastError == "" && st.Lag == 0 })
	if _, err := j.SinkStatus(ctx, "nosuchsink"); err == nil {
		t.Fatal("status of a sink that never consumed: no error")
	}
}

// waitStatus waits until the sink's status satisfies ok.
func waitStatus(t *testing.T, j *journal.Journal, sink string, ok func(journal.SinkStatus) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := j.SinkStatus(context.Background(), sink)
		if err == nil && ok(st) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status of %s: %+v, %v after 30 s", sink, st, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSinkStatusShowsLag: lines a sink has not taken show as lag.
func TestSinkStatusShowsLag(t *testing.T) {
	t.Parallel()
	j := open(t, journal.Config{})
	ctx := context.Background()
	if _, err := j.Append(ctx, batch("d", "", 1)); err != nil {
		t.Fatal(err)
	}
	consumeUntil(t, j, &collector{name: "slow"}, 1) // the cursor exists, caught up
	waitStatus(t, j, "slow", func(st journal.SinkStatus) bool { return st.Lag == 0 })
	if _, err := j.Append(ctx, batch("d", "", 1)); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, j, "slow", func(st journal.SinkStatus) bool { return st.Lag > 0 && st.LastError == "" })
}

// TestKeepSinks: cursors of sinks not kept are deleted, as Config.Sinks does at Open.
func TestKeepSinks(t *testing.T) {
	t.Parallel()
	j := open(t, journal.Config{})
	ctx := context.Background()
	if _, err := j.Append(ctx, batch("d", "", 1)); err != nil {
		t.Fatal(err)
	}
	consumeUntil(t, j, &collector{name: "old"}, 1)
	consumeUntil(t, j, &collector{name: "kept"}, 1)
	if err := j.KeepSinks(ctx, []string{"kept"}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.SinkStatus(ctx, "old"); err == nil {
		t.Fatal("the cursor of a sink not kept is still there")
	}
	if _, err := j.SinkStatus(ctx, "kept"); err != nil {
		t.Fatalf("the kept cursor: %v", err)
	}
}
