package alert

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe/internal/backoff"
)

// Delivery retry policy: a failed attempt is tried again after a capped, jittered
// exponential delay; a notification is given up after giveUpAfter, or after
// maxRejections refusals for good (a 4xx: a wrong URL does not fix itself).
const (
	retryMin      = time.Second
	retryMax      = 5 * time.Minute
	giveUpAfter   = 24 * time.Hour
	maxRejections = 3
	// sendConcurrency caps the destinations being sent to at once, and
	// maxBurst the notifications sent to one destination in one pass.
	sendConcurrency = 8
	maxBurst        = 50
)

// attempt is a run of deliveries to one destination, sent in order until one fails.
type attempt struct {
	e    *entry
	ds   []Delivery // copies: the entry's outbox may change meanwhile
	dest Destination
	errs []error // one per delivery tried; a run stops at its first failure
}

// Deliver tries every delivery that is due: per rule and destination, the waiting
// notifications in order, stopping at the first that fails (so a destination sees
// a group's firing before its resolution). Each outcome is stored with the rule's state: a notification leaves
// the outbox only once a destination took it, so delivery is at least once, across
// restarts too.
func (s *Service) Deliver(ctx context.Context) {
	var todo []*attempt
	for _, e := range s.entries(true) {
		todo = append(todo, s.due(e)...)
	}
	if len(todo) == 0 {
		return
	}
	sem := make(chan struct{}, sendConcurrency)
	var wg sync.WaitGroup
	for _, a := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			start := time.Now()
			for _, d := range a.ds {
				if time.Since(start) > s.cfg.SendTimeout {
					return // a slow destination must not hold the others' next pass back
				}
				sctx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
				err := a.dest.Send(sctx, d.Notification)
				cancel()
				a.errs = append(a.errs, err)
				if err != nil || ctx.Err() != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return // stopping: the attempts cut short are tried again after the restart
	}
	byEntry := map[*entry][]*attempt{}
	for _, a := range todo {
		byEntry[a.e] = append(byEntry[a.e], a)
	}
	for e, as := range byEntry {
		s.settle(ctx, e, as)
	}
}

// due returns the runs of deliveries of e to try now, one per destination.
func (s *Service) due(e *entry) []*attempt {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := s.cfg.Now()
	runs := map[string]*attempt{}
	blocked := map[string]bool{} // a destination whose oldest delivery is not due yet
	var out []*attempt
	for _, d := range e.state.Outbox {
		key := d.Dest.Sealed
		if blocked[key] {
			continue
		}
		if d.NextAttempt.After(now) {
			blocked[key] = true
			continue
		}
		a := runs[key]
		if a == nil {
			dest, err := s.open(d.Dest)
			if err != nil {
				dest = brokenDest{name: d.Dest.Name, err: err}
			}
			a = &attempt{e: e, dest: dest}
			runs[key] = a
			out = append(out, a)
		}
		if len(a.ds) < maxBurst {
			a.ds = append(a.ds, *d)
		}
	}
	return out
}

// open returns the Destination of a sealed URL, opened once.
func (s *Service) open(sd sealedDest) (Destination, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.dests[sd.Sealed]; ok {
		return d, nil
	}
	u, err := s.cfg.Sealer.Open(sd.Sealed)
	if err != nil {
		return nil, err
	}
	d, err := s.cfg.Opener.Open(u)
	if err != nil {
		return nil, err
	}
	s.dests[sd.Sealed] = d
	return d, nil
}

// brokenDest is a destination that cannot be opened (its key is gone): every
// attempt fails with the reason, so the failure shows where failures show.
type brokenDest struct {
	name string
	err  error
}

func (b brokenDest) Send(context.Context, Notification) error {
	return fmt.Errorf("%w: %v", ErrRejected, b.err)
}
func (b brokenDest) String() string { return b.name }

// settle records the outcomes of e's attempts and stores its state.
func (s *Service) settle(ctx context.Context, e *entry, as []*attempt) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := s.cfg.Now()
	st := e.state
	for _, a := range as {
		for k, err := range a.errs {
			i := slices.IndexFunc(st.Outbox, func(d *Delivery) bool {
				return d.Dest.Sealed == a.ds[k].Dest.Sealed && d.Notification.ID == a.ds[k].Notification.ID
			})
			if i >= 0 { // else dropped meanwhile
				s.outcome(st, i, err, now)
			}
		}
	}
	if err := s.save(ctx, e); err != nil {
		s.log.Warn("alert: store delivery outcomes", "rule", st.Rule, "err", err)
	}
	if st.Removed && len(st.Outbox) == 0 {
		s.mu.Lock()
		delete(s.orphans, st.Rule)
		s.mu.Unlock()
		if err := s.cfg.Store.DeleteState(ctx, st.Rule, st.rev); err != nil {
			s.log.Warn("alert: delete the state of a removed rule", "rule", st.Rule, "err", err)
		}
	}
}

// outcome applies one attempt's result to delivery i of st.
func (s *Service) outcome(st *ruleState, i int, err error, now time.Time) {
	d := st.Outbox[i]
	d.Attempts++
	n := d.Notification
	res := &DeliveryResult{Time: now, Destination: d.Dest.Name, Event: n.Event, NotificationID: n.ID, OK: err == nil, Attempts: d.Attempts}
	st.LastDelivery = res
	typ := destType(d.Dest.Name)
	if err == nil {
		st.Delivered++
		st.Outbox = slices.Delete(st.Outbox, i, i+1)
		st.record(Event{Time: now, Type: "delivered", Group: n.GroupLabel, Destination: d.Dest.Name, Detail: n.Event + " " + n.ID})
		s.m.deliveries.WithLabelValues(st.Rule, typ, "ok").Inc()
		return
	}
	res.Error = err.Error()
	st.Failed++
	s.m.deliveries.WithLabelValues(st.Rule, typ, "error").Inc()
	if d.LastError != res.Error {
		st.record(Event{Time: now, Type: "failed", Group: n.GroupLabel, Destination: d.Dest.Name, Detail: fmt.Sprintf("%s %s: %s", n.Event, n.ID, res.Error)})
		s.log.Warn("alert notification failed; it will be retried", "rule", st.Rule, "destination", d.Dest.Name, "event", n.Event, "attempts", d.Attempts, "err", err)
	}
	d.LastError = res.Error
	if errors.Is(err, ErrRejected) {
		d.Rejected = true
	}
	rejections := d.Rejected && d.Attempts >= maxRejections
	if rejections || now.Sub(d.Queued) >= giveUpAfter {
		st.Outbox = slices.Delete(st.Outbox, i, i+1)
		st.Dropped++
		st.record(Event{Time: now, Type: "gave_up", Group: n.GroupLabel, Destination: d.Dest.Name,
			Detail: fmt.Sprintf("%s %s after %d attempts: %s", n.Event, n.ID, d.Attempts, res.Error)})
		s.m.deliveries.WithLabelValues(st.Rule, typ, "gave_up").Inc()
		s.log.Error("alert notification given up", "rule", st.Rule, "destination", d.Dest.Name, "event", n.Event, "attempts", d.Attempts, "err", err)
		return
	}
	d.NextAttempt = now.Add(retryDelay(d.Attempts, err))
}

// retryDelay is the wait before attempt n+1: what the destination asked for, or the
// shared backoff's n-th step.
func retryDelay(attempts int, err error) time.Duration {
	var ra *RetryAfterError
	if errors.As(err, &ra) && ra.After > 0 {
		return min(ra.After, retryMax)
	}
	b := backoff.Backoff{Min: retryMin, Max: retryMax}
	var d time.Duration
	for range min(attempts, 20) {
		d = b.Next()
	}
	return d
}
