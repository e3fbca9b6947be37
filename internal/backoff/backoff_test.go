package backoff_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drainpipe/drainpipe/internal/backoff"
)

// TestBackoff: each wait lasts between half and all of a step that doubles up to
// the cap, and ends early when the context does. Fake time: no real sleeping.
func TestBackoff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := backoff.Backoff{Min: 100 * time.Millisecond, Max: time.Second}
		steps := []time.Duration{100, 200, 400, 800, 1000, 1000}
		for i, step := range steps {
			step *= time.Millisecond
			start := time.Now()
			if err := b.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d < step/2 || d > step {
				t.Errorf("wait %d lasted %v, want within [%v, %v]", i, d, step/2, step)
			}
		}
		b.Reset()
		if d := b.Next(); d > 100*time.Millisecond {
			t.Errorf("after reset: %v", d)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(10 * time.Millisecond)
			cancel()
		}()
		if err := b.Wait(ctx); err != context.Canceled {
			t.Errorf("wait on a cancelled context = %v", err)
		}
	})
}
