package archive

import (
	"context"
	"errors"
	"sync"
)

// ErrClosed is returned by Wait once the archive is closed.
var ErrClosed = errors.New("archive closed")

// notifier wakes followers when lines are committed: each waiter holds the
// channel current when it looked, and publish closes and replaces it.
type notifier struct {
	mu     sync.Mutex
	last   int64
	ch     chan struct{}
	closed bool
}

func newNotifier(last int64) *notifier {
	return &notifier{last: last, ch: make(chan struct{})}
}

// publish records that lines up to id are committed.
func (n *notifier) publish(id int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if id <= n.last || n.closed {
		return
	}
	n.last = id
	close(n.ch)
	n.ch = make(chan struct{})
}

// close wakes every waiter for good.
func (n *notifier) close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.closed {
		n.closed = true
		close(n.ch)
	}
}

// state returns the last committed id, the channel that the next change closes,
// and whether the notifier is closed.
func (n *notifier) state() (int64, <-chan struct{}, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.last, n.ch, n.closed
}

// Wait blocks until a line with an ID greater than afterID has been committed
// (by this process), and returns nil; or until ctx ends or the archive is
// closed, and returns an error. With After it lets a follower tail without
// polling: After(app, id, n), then Wait(id of the last line seen).
func (a *Archive) Wait(ctx context.Context, afterID int64) error {
	for {
		last, ch, closed := a.notify.state()
		if last > afterID {
			return nil
		}
		if closed {
			return ErrClosed
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}
