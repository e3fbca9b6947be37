package journal_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/journal"
	"github.com/nats-io/nats.go"
)

// countMessageReads counts the requests that read one journal message
// (GetMsg, direct or not) on j's server from now on.
func countMessageReads(t *testing.T, j *journal.Journal) func() int64 {
	t.Helper()
	nc := j.JetStream().Conn()
	var n atomic.Int64
	for _, subj := range []string{"$JS.API.STREAM.MSG.GET.>", "$JS.API.DIRECT.GET.>"} {
		sub, err := nc.Subscribe(subj, func(*nats.Msg) { n.Add(1) })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sub.Unsubscribe() })
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return func() int64 {
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		return n.Load()
	}
}

// TestLagNearTheEndReadsNoMessage: a sink's lag over messages this process
// wrote a moment ago is known without reading one (a read there loads the
// block NATS is writing, which costs it its write buffer); over messages it
// did not write (here: written before a restart) the oldest is read.
func TestLagNearTheEndReadsNoMessage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	j, err := journal.Open(ctx, journal.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Append(ctx, batch("d", "", 1)); err != nil {
		t.Fatal(err)
	}
	consumeUntil(t, j, &collector{name: "s"}, 1)
	reads := countMessageReads(t, j)
	before := time.Now()
	if _, err := j.Append(ctx, batch("d", "", 3)); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	lag := waitLag(t, j, "s")
	if lag > time.Since(before) || lag < time.Since(after)-time.Second {
		t.Errorf("lag %v; the line was written %v ago", lag, time.Since(before))
	}
	if n := reads(); n != 0 {
		t.Errorf("the lag over the newest messages read %d of them", n)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	j = open(t, journal.Config{Dir: dir})
	reads = countMessageReads(t, j)
	lag = waitLag(t, j, "s")
	if lag < time.Since(after) {
		t.Errorf("after a restart: lag %v; the line was written %v ago", lag, time.Since(after))
	}
	if n := reads(); n == 0 {
		t.Error("after a restart the lag read no message: it cannot have known the line's time")
	}
}

// waitLag waits for the named sink's lag to show, and returns it.
func waitLag(t *testing.T, j *journal.Journal, sink string) time.Duration {
	t.Helper()
	var lag time.Duration
	waitUntil(t, 30*time.Second, "the lag of "+sink, func() bool {
		l, err := j.Lag(context.Background(), sink)
		lag = l
		return err == nil && l > 0
	})
	return lag
}
