package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/drainpipe/drainpipe"
)

// Sink delivers journal entries to CloudWatch Logs. Create it with New.
type Sink struct {
	cfg        Config
	client     Client
	groupTmpl  template
	streamTmpl template
	format     formatter
	limits     struct{ put, stream, group, retention *rate.Limiter }
	metrics    *metrics
	rejects    *rejectLog
	log        *slog.Logger
	sem        chan struct{} // bounds the streams delivered at once
	retention  chan *group   // groups whose retention is to be enforced
	lastErr    lastError     // the last failed call, for the status

	mu        sync.Mutex
	groups    map[string]*group
	budgets   map[string]*groupBudget // by drain
	lastSweep time.Time

	ctx    context.Context // ends at Close; runs the parks and retention
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ drainpipe.Sink = (*Sink)(nil)

// New returns a Sink. It resumes the parks an earlier run left in cfg.Dir.
func New(cfg Config) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cloudwatch config: %w", err)
	}
	cfg = cfg.withDefaults()
	if !cfg.Inline {
		if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("cloudwatch dir: %w", err)
		}
	}
	s := &Sink{
		cfg:       cfg,
		client:    cfg.Client,
		format:    formatText,
		metrics:   newMetrics(cfg.Registerer),
		rejects:   newRejectLog(cfg.Logger, time.Minute, rejectHint(cfg.Inline)),
		log:       cfg.Logger,
		sem:       make(chan struct{}, cfg.Concurrency),
		retention: make(chan *group, 1024),
		groups:    map[string]*group{},
		budgets:   map[string]*groupBudget{},
	}
	s.groupTmpl, _ = parseTemplate(cfg.GroupTemplate)
	s.streamTmpl, _ = parseTemplate(cfg.StreamTemplate)
	if cfg.Format == FormatJSON {
		s.format = formatJSON
	}
	s.limits.put = limiter(cfg.Rates.PutLogEvents)
	s.limits.stream = limiter(cfg.Rates.CreateLogStream)
	s.limits.group = limiter(cfg.Rates.CreateLogGroup)
	s.limits.retention = limiter(cfg.Rates.PutRetentionPolicy)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if cfg.Inline {
		return s, nil // no background work: parks and retention are off the Write path
	}
	if err := s.resumeParks(); err != nil {
		s.Close()
		return nil, err
	}
	s.wg.Go(s.enforceRetention)
	return s, nil
}

func limiter(perSecond float64) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)))
}

// Name is the sink's durable consumer name.
func (s *Sink) Name() string { return sinkName }

// Write delivers the entries' lines. Groups and streams go concurrently; a group
// failing with a permanent error has its lines parked on disk and does not hold up
// the others. The lines of a group their drain may not create now go to its
// overflow group. Transient faults are retried until ctx ends. Write returns nil
// once every line is accepted by CloudWatch, counted as rejected, or parked.
func (s *Sink) Write(ctx context.Context, entries []drainpipe.Entry) error {
	s.sweep(time.Now())
	work := s.sortOut(entries)
	errs := s.writeGroups(ctx, work)
	if spilled := s.overflowWork(work); len(spilled) > 0 && ctx.Err() == nil {
		errs = append(errs, s.writeGroups(ctx, spilled)...)
	}
	if s.cfg.Inline {
		s.rejects.flush(ctx, true) // the summary belongs to this call's log
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// writeGroups delivers groups concurrently and returns each one's error.
func (s *Sink) writeGroups(ctx context.Context, work []*groupWork) []error {
	errs := make([]error, len(work))
	var wg sync.WaitGroup
	for i, w := range work {
		wg.Go(func() { errs[i] = s.writeGroup(ctx, w) })
	}
	wg.Wait()
	return errs
}

// writeGroup delivers one group's lines, parks them, or (when its drain may not
// create the group now) leaves them in w.spilled for its overflow group.
func (s *Sink) writeGroup(ctx context.Context, w *groupWork) error {
	g := s.group(w.name)
	g.touch(w.apps, time.Now())
	if w.overflow != "" {
		g.spends(s.budget(w.drain))
	}
	d := newDelivery(w.streams)
	if !s.cfg.Inline {
		if done, err := s.appendToPark(g, d); done {
			return err
		}
	}
	err := s.deliver(ctx, g, d)
	switch {
	case err == nil || ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, errOverBudget) && w.overflow != "":
		w.spilled = d.undelivered()
		return nil
	case s.cfg.Inline:
		return s.inlineFailed(ctx, g, d, err)
	}
	return s.parkGroup(g, d.undelivered(), err)
}

// group returns the state of the named group, making it if need be.
func (s *Sink) group(name string) *group {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[name]
	if !ok {
		g = newGroup(name)
		s.groups[name] = g
	}
	return g
}

// sweep forgets the groups and apps idle for longer than IdleTimeout.
func (s *Sink) sweep(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.lastSweep) < s.cfg.IdleTimeout/4 {
		return
	}
	s.lastSweep = now
	cutoff := now.Add(-s.cfg.IdleTimeout)
	for name, g := range s.groups {
		if g.idle(cutoff) {
			delete(s.groups, name)
		}
	}
}

// Status reports, for each app written to recently or parked, "ok" or
// "parked: <error>" when its group fails and its lines wait on disk.
func (s *Sink) Status() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string)
	for _, g := range s.groups {
		g.status(out)
	}
	return out
}

// Close stops the background work (parks and retention) and closes the parks;
// they resume when a new Sink opens the same Dir. It does not wait for Write.
func (s *Sink) Close() error {
	s.cancel()
	s.wg.Wait()
	s.rejects.flush(context.Background(), true)
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, g := range s.groups {
		g.mu.Lock()
		if g.park != nil {
			errs = append(errs, g.park.close())
		}
		g.mu.Unlock()
	}
	return errors.Join(errs...)
}
