package main

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// The shutdown budget: SIGTERM to exit within 10 s, as platforms allow. Every
// piece of shutdown work gets a deadline measured from the moment the server was
// asked to stop, so the pieces share the budget instead of adding up. What is
// not delivered to a sink by then stays in the journal for the next start.
const (
	// ingestDone ends the requests in flight and the syslog connections'
	// draining; their batches still reach the journal, which is open until later.
	ingestDone = 6500 * time.Millisecond
	// sinksDone ends the sinks' deliveries and the metrics' last flush.
	sinksDone = 8 * time.Second
	// leaveDone ends marking this node stopped in the cluster's registry.
	leaveDone = 9 * time.Second
	// journalDone ends the journal's closing; the process exits right after.
	journalDone = 9500 * time.Millisecond
)

// shutdownClock measures the shutdown budget from the moment the server is asked
// to stop (its context ends), or from the first shutdown step when serving ended
// for another reason.
type shutdownClock struct {
	log   *slog.Logger
	once  sync.Once
	start time.Time
}

func newShutdownClock(ctx context.Context, log *slog.Logger) *shutdownClock {
	c := &shutdownClock{log: log}
	context.AfterFunc(ctx, c.begin)
	return c
}

func (c *shutdownClock) begin() { c.once.Do(func() { c.start = time.Now() }) }

// by returns a context that ends d after the shutdown began.
func (c *shutdownClock) by(d time.Duration) (context.Context, context.CancelFunc) {
	c.begin()
	return context.WithDeadline(context.Background(), c.start.Add(d))
}

// run runs one shutdown step with a context that ends d after the shutdown began,
// and logs what it could not finish.
func (c *shutdownClock) run(step string, d time.Duration, f func(context.Context) error) {
	ctx, cancel := c.by(d)
	defer cancel()
	if err := f(ctx); err != nil {
		c.log.Warn("shutdown: "+step+" did not finish within the shutdown budget", "err", err)
	}
}
