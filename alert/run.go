package alert

import (
	"context"
	"sync"
	"time"
)

// Run evaluates and delivers every Tick until ctx ends, then returns once the
// deliveries in flight are cut short (each is bounded by SendTimeout anyway).
// Evaluation and delivery run apart, so a slow destination never delays a window.
func (s *Service) Run(ctx context.Context) {
	s.evaluating.Store(true)
	defer s.evaluating.Store(false)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		var last string
		s.loop(ctx, func() {
			err := s.Evaluate(ctx)
			switch {
			case ctx.Err() != nil:
			case err != nil && err.Error() != last:
				// Each rule's own errors are also in its status and history; this
				// tells the operator once, not every tick.
				s.log.Warn("alert evaluation", "err", err)
				last = err.Error()
			case err == nil:
				last = ""
			}
		})
	}()
	go func() {
		defer wg.Done()
		s.loop(ctx, func() { s.Deliver(ctx) })
	}()
	wg.Wait()
}

func (s *Service) loop(ctx context.Context, fn func()) {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
