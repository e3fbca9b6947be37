// Package backoff is drainpipe's one way to wait between retries: a capped
// exponential delay with jitter, so that many retriers hit by the same fault do
// not come back in step, and a sleep that ends with its context.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is a capped exponential delay with jitter. The zero value waits
// nothing; set Min and Max. It is not safe for concurrent use: each retrying
// loop has its own.
type Backoff struct {
	// Min is the first step, Max the largest.
	Min, Max time.Duration
	cur      time.Duration
}

// Next returns the delay before the next attempt: between half and all of the
// current step, which doubles from Min up to Max.
func (b *Backoff) Next() time.Duration {
	switch {
	case b.cur == 0:
		b.cur = b.Min
	case b.cur < b.Max:
		b.cur = min(2*b.cur, b.Max)
	}
	if b.cur <= 1 {
		return b.cur
	}
	half := b.cur / 2
	return half + rand.N(b.cur-half+1)
}

// Wait sleeps for the next delay, or until ctx ends.
func (b *Backoff) Wait(ctx context.Context) error { return Sleep(ctx, b.Next()) }

// Reset starts again from Min, after a success.
func (b *Backoff) Reset() { b.cur = 0 }

// Sleep waits d, or until ctx ends, and returns ctx's error in that case.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
