package tick_test

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drainpipe/drainpipe/internal/tick"
)

func TestEvery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		stop := tick.Every(time.Second, func() { calls.Add(1) })
		time.Sleep(999 * time.Millisecond)
		synctest.Wait()
		if n := calls.Load(); n != 0 {
			t.Fatalf("%d calls before the first interval", n)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if n := calls.Load(); n != 2 {
			t.Fatalf("%d calls after 3 s at 1 s, want 2", n)
		}
		stop()
		stop() // again: nothing
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if n := calls.Load(); n != 2 {
			t.Fatalf("%d calls after stop, want still 2", n)
		}
	})
}

// TestStopWaitsForACall: fn never runs after stop returns.
func TestStopWaitsForACall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var running, after atomic.Bool
		stopped := make(chan struct{})
		stop := tick.Every(time.Second, func() {
			running.Store(true)
			time.Sleep(10 * time.Second)
			select {
			case <-stopped:
				after.Store(true)
			default:
			}
		})
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		if !running.Load() {
			t.Fatal("fn did not run")
		}
		stop()
		close(stopped)
		if after.Load() {
			t.Fatal("fn was still running when stop returned")
		}
	})
}
