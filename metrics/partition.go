package metrics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/drainpipe/drainpipe"
)

// With a History (SinkConfig.History), a Sink aggregates the journal's partitions
// this node owns, one Part per partition, and every PublishEvery publishes for each
// one what it holds: the intervals closed since the last publish and a snapshot of
// those still open, with the journal position they cover. Only then are the
// partition's entries acknowledged (Part is a journal.DeferredSink), so a crash
// loses nothing: the next owner claims the partition, resumes after the last
// published position, and the history holds exactly what came before it (the
// snapshots' bucket IDs let each replica keep the latest copy of an open bucket).
// Counts are then exact across crashes and handovers, and an interval aggregated
// on two nodes (before and after a handover) is two rows that queries merge.

// part is a partition this node owns.
type part struct {
	claim   Claim
	through Position // the last entry aggregated
	durable Position // the last entry published
	apps    map[string]bool
	closed  []Interval // flushed and not yet published
}

// Part is the sink of partition p, for the journal consumer of that partition:
// Claim it first.
func (s *Sink) Part(p int) drainpipe.Sink { return partSink{s: s, p: p} }

type partSink struct {
	s *Sink
	p int
}

func (ps partSink) Name() string { return ps.s.Name() }

func (ps partSink) Write(_ context.Context, entries []drainpipe.Entry) error {
	return ps.s.writePart(ps.p, entries)
}

// Durable is how far the partition's entries are published (journal.DeferredSink).
func (ps partSink) Durable(journal string) uint64 {
	ps.s.mu.Lock()
	defer ps.s.mu.Unlock()
	pt := ps.s.parts[ps.p]
	if pt == nil || pt.durable.Journal != journal {
		return 0
	}
	return pt.durable.Seq
}

// Claim makes this node the owner of partition p's metrics: what the last owner
// published is skipped when the journal delivers it again.
func (s *Sink) Claim(ctx context.Context, p int) error {
	if s.cfg.History == nil {
		return errors.New("metrics: partitions need a History")
	}
	c, err := s.cfg.History.Claim(ctx, p)
	if err != nil {
		return fmt.Errorf("claim metrics partition %d: %w", p, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.parts[p] = &part{claim: c, through: c.Through, durable: c.Through, apps: map[string]bool{}}
	s.log.Info("metrics partition claimed", "partition", p, "journal", c.Through.Journal, "through", c.Through.Seq)
	return nil
}

// Release gives partition p up: it publishes what it holds (when it still may, and
// within ctx) so the next owner aggregates less again, then forgets the
// partition's apps.
func (s *Sink) Release(ctx context.Context, p int) {
	s.publish(ctx, time.Now(), p)
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.parts[p]
	if pt == nil {
		return
	}
	delete(s.parts, p)
	for app := range pt.apps {
		delete(s.appPart, app)
	}
	s.cfg.Aggregator.Forget(func(app string) bool { return pt.apps[app] })
}

// writePart aggregates the entries of partition p that the last publish does not
// already cover.
func (s *Sink) writePart(p int, entries []drainpipe.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.parts[p]
	if pt == nil {
		return fmt.Errorf("metrics partition %d is not claimed by this node", p)
	}
	for _, e := range entries {
		if pt.claim.Through.covers(e.Journal, e.Seq) {
			continue // published by the last owner: counted already
		}
		for i := range e.Batches {
			pt.apps[e.Batches[i].App] = true
			s.appPart[e.Batches[i].App] = p
		}
		s.aggregate(e)
		pt.through = Position{Journal: e.Journal, Seq: e.Seq}
	}
	s.wrote(entries)
	return nil
}

// publish flushes the intervals that have ended and publishes, for partition only
// (or every partition owned, when only < 0), what was closed since the last
// publish and a snapshot of what is open. EMF documents go out for the closed
// intervals once they are published.
func (s *Sink) publish(ctx context.Context, now time.Time, only int) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	given := s.given(now)
	type job struct {
		p       int
		pt      *part
		claim   Claim
		through Position
		closed  []Interval
		ivs     []Interval
	}
	s.mu.Lock()
	for _, iv := range s.cfg.Aggregator.Flush(now) {
		if p, ok := s.appPart[iv.App]; ok && s.parts[p] != nil {
			s.parts[p].closed = append(s.parts[p].closed, iv)
		}
	}
	var jobs []job
	for p, pt := range s.parts {
		if only >= 0 && p != only {
			continue
		}
		open := s.cfg.Aggregator.Snapshot(func(app string) bool { return pt.apps[app] })
		if len(pt.closed) == 0 && len(open) == 0 && pt.through == pt.durable {
			continue
		}
		closed := pt.closed
		jobs = append(jobs, job{p: p, pt: pt, claim: pt.claim, through: pt.through, closed: closed,
			ivs: append(closed[:len(closed):len(closed)], open...)})
	}
	s.mu.Unlock()
	failed := false
	for _, jb := range jobs {
		c, err := s.cfg.History.Publish(ctx, jb.claim, jb.through, jb.ivs)
		if err != nil {
			s.log.Warn("publish metric intervals", "partition", jb.p, "intervals", len(jb.ivs), "err", err)
			failed = true
			continue
		}
		s.mu.Lock()
		if s.parts[jb.p] == jb.pt {
			jb.pt.claim, jb.pt.durable = c, jb.through
			jb.pt.closed = jb.pt.closed[len(jb.closed):]
		}
		s.mu.Unlock()
		if s.cfg.EMF != nil && len(jb.closed) > 0 {
			if err := s.putEMF(ctx, jb.closed); err != nil {
				s.log.Warn("put EMF", "err", err)
			}
		}
	}
	if only < 0 && !failed {
		s.mu.Lock()
		for _, pt := range s.parts {
			given.Seq = max(given.Seq, pt.claim.Fence)
		}
		s.mu.Unlock()
		s.flushed(given)
	}
}

// runPublish publishes every PublishEvery, on the wall clock's multiples of it (a
// moment after an interval ends, so that it is published closed), until ctx ends;
// then once more, within a few seconds.
func (s *Sink) runPublish(ctx context.Context) {
	every := s.cfg.PublishEvery
	s.prune(ctx, time.Now())
	for {
		next := time.Now().Truncate(every).Add(every + publishGrace)
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			s.publish(fctx, time.Now(), -1)
			cancel()
			return
		case now := <-t.C:
			s.publish(ctx, now, -1)
			s.prune(ctx, now)
		}
	}
}

// publishGrace lets the lines of an interval that just ended arrive before it is
// published as closed.
const publishGrace = 2 * time.Second
