// Package tick runs a function at a fixed interval in a goroutine of its own until
// it is stopped: progress reports, heartbeats. It is the one way drainpipe does so.
package tick

import (
	"sync"
	"time"
)

// Every calls fn every interval, first after one interval, until the returned
// stop is called. stop waits for a call in progress to end, so fn is never called
// after stop returns; calling stop again does nothing.
func Every(interval time.Duration, fn func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fn()
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
}
