package cloudwatch

import (
	"fmt"
	"github.com/drainpipe/drainpipe/internal/backoff"
	"path/filepath"
	"time"
)

// parkChunkBytes bounds how much of a park is read into memory at once.
const parkChunkBytes = 8 << 20

// appendToPark adds d's lines to g's park when g is parked, so they keep their
// place behind the lines already waiting. It reports whether g was parked.
func (s *Sink) appendToPark(g *group, d *delivery) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.park == nil {
		return false, nil
	}
	recs := d.undelivered()
	if err := g.park.append(recs); err != nil {
		return true, fmt.Errorf("park group %s: %w", g.name, err)
	}
	s.metrics.parked.Add(float64(len(recs)))
	return true, nil
}

// parkGroup writes the lines a permanent error stopped to a new park for g and
// starts retrying it in the background.
func (s *Sink) parkGroup(g *group, recs []parkRecord, cause error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	p, err := createPark(s.cfg.Dir, g.name)
	if err != nil {
		return fmt.Errorf("park group %s: %w", g.name, err)
	}
	if err := p.append(recs); err != nil {
		p.remove()
		return fmt.Errorf("park group %s: %w", g.name, err)
	}
	g.park, g.failure = p, describe(cause)
	s.metrics.parked.Add(float64(len(recs)))
	s.metrics.failing.WithLabelValues(g.name).Set(1)
	s.log.Warn("cloudwatch group fails; its lines are parked on disk until it works",
		"group", g.name, "lines", len(recs), "err", g.failure)
	s.wg.Go(func() { s.drainPark(g, true) })
	return nil
}

// drainPark delivers g's park in order, chunk by chunk, retrying with backoff
// while the group still fails, and removes the park once it is empty.
func (s *Sink) drainPark(g *group, waitFirst bool) {
	b := s.backoff(s.cfg.ParkBackoffMax)
	if waitFirst && b.Wait(s.ctx) != nil {
		return
	}
	for s.ctx.Err() == nil {
		g.mu.Lock()
		p, from, limit := g.park, g.park.offset, g.park.size
		if from >= limit {
			s.unpark(g)
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		recs, next, bad, err := p.read(from, limit, parkChunkBytes)
		if err != nil {
			s.log.Error("cloudwatch park unreadable", "group", g.name, "err", err)
			if b.Wait(s.ctx) != nil {
				return
			}
			continue
		}
		if bad > 0 {
			s.log.Error("cloudwatch park holds damaged records; skipped", "group", g.name, "records", bad)
		}
		if !s.deliverChunk(g, recs, &b) {
			return
		}
		g.mu.Lock()
		err = p.setOffset(next)
		g.mu.Unlock()
		if err != nil {
			s.log.Error("cloudwatch park offset not saved; a restart may send some lines twice", "group", g.name, "err", err)
		}
	}
}

// deliverChunk delivers records read from a park, resuming after a failure where
// it stopped. It reports false when the sink is closing.
func (s *Sink) deliverChunk(g *group, recs []parkRecord, b *backoff.Backoff) bool {
	streams := map[string][]event{}
	appendEvents(streams, recs, 0)
	d := newDelivery(streams)
	for {
		err := s.deliver(s.ctx, g, d)
		if err == nil {
			b.Reset()
			return true
		}
		if s.ctx.Err() != nil {
			return false
		}
		g.mu.Lock()
		g.failure = describe(err)
		g.mu.Unlock()
		if b.Wait(s.ctx) != nil {
			return false
		}
	}
}

// unpark removes g's delivered park; g.mu is held.
func (s *Sink) unpark(g *group) {
	if err := g.park.remove(); err != nil {
		s.log.Error("cloudwatch park not removed", "group", g.name, "err", err)
	}
	now := time.Now()
	for app := range g.park.apps {
		g.apps[app] = now // still "ok" in Status after a restart
	}
	g.park, g.failure = nil, ""
	g.lastUsed = now
	s.metrics.failing.DeleteLabelValues(g.name)
	s.log.Info("cloudwatch group works again; its park is delivered", "group", g.name)
}

// resumeParks finds the parks an earlier run left and starts delivering them.
func (s *Sink) resumeParks() error {
	paths, err := filepath.Glob(filepath.Join(s.cfg.Dir, "*"+parkExt))
	if err != nil {
		return err
	}
	for _, path := range paths {
		name, p, err := openPark(path)
		if err != nil {
			return fmt.Errorf("resume park: %w", err)
		}
		g := newGroup(name)
		g.park, g.failure = p, "resuming after restart"
		s.groups[name] = g
		s.metrics.failing.WithLabelValues(name).Set(1)
		s.log.Info("cloudwatch resuming park", "group", name, "path", path)
		s.wg.Go(func() { s.drainPark(g, false) })
	}
	return nil
}
