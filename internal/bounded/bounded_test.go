package bounded_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drainpipe/drainpipe/internal/bounded"
)

// TestRun: f's own error when it ends in time; the context's, at its deadline,
// when f does not end at all.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		failed := errors.New("failed")
		if err := bounded.Run(t.Context(), func() error { return failed }); err != failed {
			t.Errorf("f ended in time: %v, want its error", err)
		}
		stuck := make(chan struct{})
		defer close(stuck) // lets f end with the test
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		err := bounded.Run(ctx, func() error { <-stuck; return nil })
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != time.Second {
			t.Errorf("f stuck: %v after %v, want the deadline's error after 1s", err, time.Since(start))
		}
	})
}
