package cloudwatch

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// TestBackoff: each wait lasts between half and all of a step that doubles up to
// the cap, and ends early when the context does. Fake time: no real sleeping.
func TestBackoff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := backoff{min: 100 * time.Millisecond, max: time.Second}
		steps := []time.Duration{100, 200, 400, 800, 1000, 1000}
		for i, step := range steps {
			step *= time.Millisecond
			start := time.Now()
			if err := b.wait(context.Background()); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d < step/2 || d > step {
				t.Errorf("wait %d lasted %v, want within [%v, %v]", i, d, step/2, step)
			}
		}
		b.reset()
		if d := b.next(); d > 100*time.Millisecond {
			t.Errorf("after reset: %v", d)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(10 * time.Millisecond)
			cancel()
		}()
		if err := b.wait(ctx); err != context.Canceled {
			t.Errorf("wait on a cancelled context = %v", err)
		}
	})
}
