package metrics

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// RangeQuery selects an app's series over a window, step by step: the data of a
// graph.
type RangeQuery struct {
	App string
	// Since and Until bound the window; an interval belongs to the step its start
	// falls in, so a step holds the intervals that started in [t, t+Step).
	Since, Until time.Time
	// Step is each point's width; it should be a multiple of the aggregation
	// interval, or points alternate between holding one interval and two.
	Step time.Duration
	// NamePrefix keeps the series whose name starts with it.
	NamePrefix string
	// MergeSources merges the sources of each name into one series with Source "":
	// the p95 of router.service over every dyno, requests of the whole app.
	MergeSources bool
}

// RangePoint is one step of a series: its statistics merged over the intervals that
// started in [Time, Time+step).
type RangePoint struct {
	Time  time.Time `json:"t"`
	Count float64   `json:"count"`
	Sum   float64   `json:"sum"`
	Min   float64   `json:"min"`
	Max   float64   `json:"max"`
	Mean  float64   `json:"mean"`
	Last  float64   `json:"last"`
	P50   float64   `json:"p50"`
	P95   float64   `json:"p95"`
	P99   float64   `json:"p99"`
}

// RangeSeries is one series over a window, with a point for each step that had
// samples (steps without any are left out).
type RangeSeries struct {
	Name   string       `json:"name"`
	Source string       `json:"source"`
	Unit   string       `json:"unit"`
	Kind   string       `json:"kind"`
	Points []RangePoint `json:"points"`
}

// MaxRangePoints bounds the steps of a range query.
const MaxRangePoints = 5000

// Range returns app's series over [q.Since, q.Until) in steps of q.Step, sorted
// by name, then source.
func (s *Store) Range(ctx context.Context, q RangeQuery) ([]RangeSeries, error) {
	if q.Step <= 0 || !q.Since.Before(q.Until) {
		return nil, errors.New("range: want since before until and a positive step")
	}
	if q.Until.Sub(q.Since)/q.Step > MaxRangePoints {
		return nil, fmt.Errorf("range: more than %d steps; take a longer step", MaxRangePoints)
	}
	merged, err := s.rangeSteps(ctx, q)
	if err != nil {
		return nil, err
	}
	return rangeSeries(q, merged), nil
}

// stepKey is a series' step: its intervals merge into one point.
type stepKey struct {
	series seriesKey
	step   int64
}

// rangeSteps reads the intervals of q and merges those of each series and step.
func (s *Store) rangeSteps(ctx context.Context, q RangeQuery) (map[stepKey]*Interval, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, source, unit, kind, start_ms, end_ms,
		count, sum, min, max, last, last_at, sketch, distinct_set
		FROM metric_intervals
		WHERE app = ? AND start_ms >= ? AND start_ms < ? AND substr(name, 1, ?) = ?`,
		q.App, q.Since.UnixMilli(), q.Until.UnixMilli(), len([]rune(q.NamePrefix)), q.NamePrefix)
	if err != nil {
		return nil, fmt.Errorf("query metric intervals: %w", err)
	}
	defer rows.Close()
	return mergeIntervals(rows, func(iv *Interval) stepKey {
		if q.MergeSources {
			iv.Source = ""
		}
		return stepKey{seriesKey{iv.Name, iv.Unit, iv.Source, iv.Kind}, int64(iv.Start.Sub(q.Since) / q.Step)}
	})
}

// rangeSeries turns the merged steps into series of points in time order, the
// series sorted by name, source, unit and kind.
func rangeSeries(q RangeQuery, merged map[stepKey]*Interval) []RangeSeries {
	bySeries := make(map[seriesKey]*RangeSeries)
	for k, iv := range merged {
		rs := bySeries[k.series]
		if rs == nil {
			rs = &RangeSeries{Name: iv.Name, Source: iv.Source, Unit: iv.Unit, Kind: iv.Kind.String()}
			bySeries[k.series] = rs
		}
		st := seriesOf(*iv)
		rs.Points = append(rs.Points, RangePoint{Time: q.Since.Add(time.Duration(k.step) * q.Step).UTC(),
			Count: st.Count, Sum: st.Sum, Min: st.Min, Max: st.Max, Mean: st.Mean, Last: st.Last, P50: st.P50, P95: st.P95, P99: st.P99})
	}
	out := make([]RangeSeries, 0, len(bySeries))
	for _, rs := range bySeries {
		slices.SortFunc(rs.Points, func(a, b RangePoint) int { return a.Time.Compare(b.Time) })
		out = append(out, *rs)
	}
	slices.SortFunc(out, func(a, b RangeSeries) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Unit, b.Unit), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}
