package alerttest

import (
	"context"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/metrics"
)

// Metrics is an in-memory alert.MetricSource with the interface's semantics:
// Series merges, per app, source and unit, the intervals of the series whose Start is
// in [start, end) and whose end is before the watermark (Mark, default the clock).
type Metrics struct {
	// Mark is the watermark; nil uses time.Now. Set it before the Metrics is in
	// use; SetMark changes it while it is.
	Mark func() time.Time
	// Err, when set, is returned by every call (a history that is down).
	Err error

	mu        sync.Mutex
	intervals []metrics.Interval
}

var _ alert.MetricSource = (*Metrics)(nil)

// Add stores intervals.
func (m *Metrics) Add(ivs ...metrics.Interval) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.intervals = append(m.intervals, ivs...)
}

// Watermark returns Mark().
func (m *Metrics) Watermark(context.Context) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Err != nil {
		return time.Time{}, m.Err
	}
	return m.mark(), nil
}

// SetMark replaces Mark, safely while a query runs.
func (m *Metrics) SetMark(mark func() time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Mark = mark
}

func (m *Metrics) mark() time.Time {
	if m.Mark != nil {
		return m.Mark()
	}
	return time.Now()
}

// Series merges the stored intervals of name.
func (m *Metrics) Series(_ context.Context, app, name string, start, end time.Time) ([]metrics.Interval, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Err != nil {
		return nil, m.Err
	}
	type key struct{ app, source, unit string }
	merged := map[key]*metrics.Interval{}
	var order []key
	mark := m.mark()
	for _, iv := range m.intervals {
		if iv.Name != name || (app != "" && iv.App != app) || iv.Start.Before(start) || !iv.Start.Before(end) ||
			iv.Start.Add(iv.Length).After(mark) {
			continue
		}
		k := key{iv.App, iv.Source, iv.Unit}
		if cur, ok := merged[k]; ok {
			if err := cur.Merge(iv); err != nil {
				return nil, err
			}
			continue
		}
		cp := iv
		merged[k] = &cp
		order = append(order, k)
	}
	out := make([]metrics.Interval, 0, len(order))
	for _, k := range order {
		out = append(out, *merged[k])
	}
	return out, nil
}

// Interval makes an interval of a series with the given samples, for Add; a
// distribution or a gauge keeps them in a sketch.
func Interval(app, name, source string, kind metrics.Kind, start time.Time, length time.Duration, values ...float64) metrics.Interval {
	iv := metrics.Interval{App: app, Name: name, Source: source, Kind: kind, Start: start, Length: length}
	if kind == metrics.Distribution || kind == metrics.Gauge {
		iv.Sketch = metrics.NewSketch()
	}
	for i, v := range values {
		if i == 0 || v < iv.Min {
			iv.Min = v
		}
		if i == 0 || v > iv.Max {
			iv.Max = v
		}
		iv.Count++
		iv.Sum += v
		iv.Last, iv.LastAt = v, start
		if iv.Sketch != nil {
			iv.Sketch.Add(v)
		}
	}
	return iv
}
