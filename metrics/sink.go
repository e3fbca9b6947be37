package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/herokulog"
)

// EMFWriter puts Embedded Metric Format documents into an app's CloudWatch log
// group; the CloudWatch sink implements it.
type EMFWriter interface {
	PutEMF(ctx context.Context, app string, docs [][]byte) error
}

// SinkConfig configures a Sink.
type SinkConfig struct {
	// Aggregator sums the samples; required.
	Aggregator *Aggregator
	// Store keeps closed intervals for `drainpipe metrics`; nil keeps none.
	Store *Store
	// Retention is how long the Store keeps intervals. Default 30 days. It is the
	// Aggregator's too, unless its Config sets one (see Config.Retention).
	Retention time.Duration
	// EMF, when set, receives every closed interval as EMF documents.
	EMF EMFWriter
	// EMFOptions shape those documents.
	EMFOptions EMFOptions
	// Interval is how often closed intervals are flushed; the aggregator's interval.
	Interval time.Duration
	// History, when set, receives what the sink aggregated instead of Store, from
	// the partitions this node owns (see Part); every node's Store then gets it
	// from there. Nil saves to Store directly, as one node that owns every app.
	History History
	// PublishEvery is how often the partitions are published to History (their
	// entries are acknowledged only then). Default the lesser of Interval and 30 s.
	PublishEvery time.Duration
	Logger       *slog.Logger
}

// Sink is the journal consumer that turns lines into metrics. A line whose
// metrics do not parse is counted by the aggregator and never holds back the
// others, or any other sink. Metrics are derived data: the journal is
// acknowledged as soon as lines are aggregated, so a crash loses at most the
// interval being aggregated (the lines themselves are safe in the other sinks).
type Sink struct {
	cfg SinkConfig
	log *slog.Logger

	mu        sync.Mutex
	parts     map[int]*part  // the partitions this node owns, with a History
	appPart   map[string]int // the partition of each app seen
	pubMu     sync.Mutex     // one publish at a time
	lastPrune time.Time
	writes    uint64    // Write (and Part's Write) calls that returned
	received  time.Time // the latest batch received time given to Write
	progress  Progress
}

// Progress says what the Store holds: every line given to Write before the last
// successful flush, in the intervals that had ended by Flushed. With a History,
// a flush is a publish of every partition this node owns, and the Store holds
// it once it has applied the History's message Seq.
type Progress struct {
	// Flushed is the time the last successful flush closed intervals up to.
	Flushed time.Time
	// Received is the latest received time of the batches given before that flush,
	// and Writes counts the Write calls before it.
	Received time.Time
	Writes   uint64
	// Seq is, with a History, the last message of that publish (see
	// Store.Position); 0 without one.
	Seq uint64
}

var _ drainpipe.Sink = (*Sink)(nil)

// NewSink returns a metrics sink; call Run to flush its intervals.
func NewSink(cfg SinkConfig) *Sink {
	if cfg.Retention <= 0 {
		cfg.Retention = 30 * 24 * time.Hour
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.PublishEvery <= 0 {
		cfg.PublishEvery = min(cfg.Interval, 30*time.Second)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Aggregator != nil {
		cfg.Aggregator.useRetention(cfg.Retention)
	}
	return &Sink{cfg: cfg, log: cfg.Logger, parts: map[int]*part{}, appPart: map[string]int{}}
}

// PublishEvery is how often the partitions are published to the History.
func (s *Sink) PublishEvery() time.Duration { return s.cfg.PublishEvery }

// Name is the sink's journal consumer name.
func (s *Sink) Name() string { return "metrics" }

// Write aggregates every record of entries. A loss that a batch's drop headers
// report beyond its report lines (herokulog.BatchLoss) is added to logplex.dropped
// with no source, at the batch's receive time, so each loss counts once.
// With a History, the journal's partitions are written through Part instead.
func (s *Sink) Write(_ context.Context, entries []drainpipe.Entry) error {
	if s.cfg.History != nil {
		return errors.New("metrics: with a History, write through Part")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		s.aggregate(e)
	}
	s.wrote(entries)
	return nil
}

// wrote counts a Write of entries; s.mu is held.
func (s *Sink) wrote(entries []drainpipe.Entry) {
	s.writes++
	for _, e := range entries {
		for i := range e.Batches {
			if r := e.Batches[i].Received; r.After(s.received) {
				s.received = r
			}
		}
	}
}

// Progress returns the sink's last successful flush, and how many Write calls have
// returned by now (more than the flush's Writes when lines came since).
func (s *Sink) Progress() (Progress, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.progress, s.writes
}

// given is what a flush starting now will have stored once it succeeds.
func (s *Sink) given(now time.Time) Progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Progress{Flushed: now, Received: s.received, Writes: s.writes}
}

// flushed records p as the last successful flush.
func (s *Sink) flushed(p Progress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Writes >= s.progress.Writes {
		s.progress = p
	}
}

// aggregate adds e's records, and the losses its batches report.
func (s *Sink) aggregate(e drainpipe.Entry) {
	for i := range e.Batches {
		b := &e.Batches[i]
		for _, r := range b.Records {
			if !r.Malformed {
				_ = s.cfg.Aggregator.AddRecord(r) // failures are counted by the aggregator
			}
		}
		if b.Dropped > 0 {
			if loss := herokulog.BatchLoss(b); loss.Total > loss.InLines {
				s.cfg.Aggregator.Add(b.App, Sample{Name: droppedName, Kind: Counter,
					Value: float64(loss.Total - loss.InLines), Time: b.Received})
			}
		}
	}
}

// Run flushes closed intervals every Interval to the store and to EMF until ctx
// ends, and prunes the store hourly. Close then flushes the intervals still open.
// With a History it publishes the partitions instead (see Part), the last time as
// ctx ends.
func (s *Sink) Run(ctx context.Context) {
	if s.cfg.History != nil {
		s.runPublish(ctx)
		return
	}
	tick := time.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if err := s.flush(ctx, now); err != nil {
				s.log.Warn("flush metric intervals", "err", err)
			}
			s.prune(ctx, now)
		}
	}
}

// prune deletes the store's intervals past the retention, once an hour.
func (s *Sink) prune(ctx context.Context, now time.Time) {
	if s.cfg.Store == nil || now.Sub(s.lastPrune) < time.Hour {
		return
	}
	if _, err := s.cfg.Store.Prune(ctx, now, s.cfg.Retention); err != nil {
		s.log.Warn("prune metric intervals", "err", err)
	}
	s.lastPrune = now
}

// Close flushes every interval, the open ones included, to the store and to EMF,
// within ctx; call it once Run has returned. At shutdown ctx is what is left of
// the process's budget: EMF documents CloudWatch has not taken when it ends are
// dropped (metrics are derived data: the intervals are in the store, and the
// lines in the journal and the other sinks). With a History, Run published the
// last intervals as it returned: there is nothing left to flush.
func (s *Sink) Close(ctx context.Context) error {
	if s.cfg.History != nil {
		return nil
	}
	// Far enough ahead that every open interval is closed.
	return s.flush(ctx, time.Now().Add(24*time.Hour))
}

// flush saves the intervals closed by now and puts them as EMF. Progress moves
// only when the store took them (a reader of the store can then trust it up to
// the flush).
func (s *Sink) flush(ctx context.Context, now time.Time) error {
	given := s.given(now)
	intervals := s.cfg.Aggregator.Flush(now)
	var errs []error
	if s.cfg.Store != nil && len(intervals) > 0 {
		if err := s.cfg.Store.Save(ctx, intervals); err != nil {
			errs = append(errs, fmt.Errorf("save %d intervals: %w", len(intervals), err))
		}
	}
	if len(errs) == 0 {
		s.flushed(given)
	}
	if len(intervals) == 0 {
		return nil
	}
	if s.cfg.EMF != nil {
		if err := s.putEMF(ctx, intervals); err != nil {
			errs = append(errs, fmt.Errorf("put EMF: %w", err))
		}
	}
	return errors.Join(errs...)
}

// putEMF writes each app's intervals as EMF documents into its log group.
func (s *Sink) putEMF(ctx context.Context, intervals []Interval) error {
	byApp := map[string][]Interval{}
	for _, iv := range intervals {
		byApp[iv.App] = append(byApp[iv.App], iv)
	}
	for app, ivs := range byApp {
		docs, err := EMF(ivs, s.cfg.EMFOptions)
		if err != nil {
			s.log.Warn("some intervals cannot be sent as EMF", "app", app, "err", err)
		}
		if len(docs) == 0 {
			continue
		}
		if err := s.cfg.EMF.PutEMF(ctx, app, docs); err != nil {
			return fmt.Errorf("app %s: %w", app, err)
		}
	}
	return nil
}
