package main

import (
	"context"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/metrics"
)

// metricSource lets metric rules read the metrics history.
type metricSource struct {
	store *metrics.Store
	sink  *metrics.Sink
	lag   func(context.Context) (time.Duration, error) // the metrics consumer's journal lag
	now   func() time.Time

	mu   sync.Mutex
	last time.Time
}

var _ alert.MetricSource = (*metricSource)(nil)

// Series reads the series' intervals that start in the window.
func (m *metricSource) Series(ctx context.Context, app, name string, start, end time.Time) ([]metrics.Interval, error) {
	return m.store.Intervals(ctx, app, name, start, end)
}

// Watermark: the store holds every line given to the sink before its last
// successful flush, in the intervals that had ended by then. Lines received before
// the latest one given then, less journalSlack, had been given (the journal delivers
// in order); and when the sink has been given nothing since and the journal holds
// nothing for it, every line received before now, less journalSlack, had. The
// sink publishes to the metrics' History, which this node's store replicates:
// until the store has applied the flush's last message, the watermark stays.
func (m *metricSource) Watermark(ctx context.Context) (time.Time, error) {
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
	w := p.Received.Add(-journalSlack)
	if lag == 0 && writes == p.Writes {
		w = m.now().Add(-journalSlack)
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
