package cloudwatch

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff is a capped exponential delay with jitter, so that many streams retrying
// after the same fault do not come back in step.
type backoff struct {
	min, max, cur time.Duration
}

// next returns the delay before the next attempt: between half and all of the
// current step, which doubles up to max.
func (b *backoff) next() time.Duration {
	switch {
	case b.cur == 0:
		b.cur = b.min
	case b.cur < b.max:
		b.cur = min(2*b.cur, b.max)
	}
	if b.cur <= 1 {
		return b.cur
	}
	half := b.cur / 2
	return half + rand.N(b.cur-half+1)
}

// wait sleeps for the next delay, or until ctx ends.
func (b *backoff) wait(ctx context.Context) error {
	t := time.NewTimer(b.next())
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (b *backoff) reset() { b.cur = 0 }
