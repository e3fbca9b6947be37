// Package alertseries lets metric alert rules read the metrics history
// (alert.MetricSource): a series' intervals in a window, and the watermark
// before which every received line is in the history.
package alertseries

import (
	"context"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/metrics"
)

// Config is what a Source reads.
type Config struct {
	// Store is the metrics history, and Sink the metrics sink that saves to it.
	Store *metrics.Store
	Sink  *metrics.Sink
	// Lag is the metrics consumer's journal lag: the age of the oldest journal
	// message it has not acknowledged.
	Lag func(context.Context) (time.Duration, error)
	// Slack bounds how long an accepted batch can wait between its received time
	// and its journal message.
	Slack time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Source is the metrics history as metric rules read it.
type Source struct {
	store *metrics.Store
	sink  *metrics.Sink
	lag   func(context.Context) (time.Duration, error)
	slack time.Duration
	now   func() time.Time

	mu   sync.Mutex
	last time.Time // the watermark never goes back
}

var _ alert.MetricSource = (*Source)(nil)

// New returns a Source over cfg.Store.
func New(cfg Config) *Source {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Source{store: cfg.Store, sink: cfg.Sink, lag: cfg.Lag, slack: cfg.Slack, now: cfg.Now}
}

// Series reads the series' intervals that start in the window.
func (m *Source) Series(ctx context.Context, app, name string, start, end time.Time) ([]metrics.Interval, error) {
	return m.store.Intervals(ctx, app, name, start, end)
}

// Watermark: the store holds every line given to the sink before its last
// successful flush, in the intervals that had ended by then. Lines received before
// the latest one given then, less the slack, had been given (the journal delivers
// in order); and when the sink has been given nothing since and the journal holds
// nothing for it, every line received before now, less the slack, had. A sink
// with a History (a cluster's) publishes there, and the store replicates it:
// until the store has applied the flush's last message, the watermark stays.
func (m *Source) Watermark(ctx context.Context) (time.Time, error) {
	p, writes := m.sink.Progress()
	if p.Seq > 0 {
		_, applied, err := m.store.Position(ctx)
		if err != nil {
			return time.Time{}, err
		}
		if applied < p.Seq {
			m.mu.Lock()
			defer m.mu.Unlock()
			return m.last, nil
		}
	}
	lag, err := m.lag(ctx)
	if err != nil {
		return time.Time{}, err
	}
	w := p.Received.Add(-m.slack)
	if lag == 0 && writes == p.Writes {
		w = m.now().Add(-m.slack)
	}
	if p.Flushed.Before(w) {
		w = p.Flushed
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if w.Before(m.last) {
		w = m.last
	}
	m.last = w
	return w, nil
}
