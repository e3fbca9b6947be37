package metrics

import (
	"fmt"
	"math"
	"time"
)

// Interval is what one series did over one interval: enough to merge it with other
// intervals (later ones, or another node's) and still answer every statistic.
type Interval struct {
	// App, Name, Source and Unit identify the series, with Kind.
	App, Name, Source, Unit string
	Kind                    Kind
	// Start is the interval's start; it covers [Start, Start+Length).
	Start  time.Time
	Length time.Duration
	// Count is the number of samples. Sum is their total, except for Unique, where it
	// is the distinct count: the value of a counter and of a unique metric is Sum.
	Count, Sum float64
	// Min, Max and Last are over the samples (zero for Unique); Last is the value of
	// the sample with the latest time, LastAt.
	Min, Max, Last float64
	LastAt         time.Time
	// Sketch holds the values' distribution (Distribution and Gauge only).
	Sketch *Sketch
	// Distinct holds the values counted (Unique only).
	Distinct *Distinct
	// ID names the aggregation bucket the interval came from, unique across nodes
	// and restarts ("" when it is not known). The history keeps one row per ID: a
	// later snapshot of a bucket still open replaces an earlier one (see Store.Apply).
	ID string

	// owned reports that Sketch and Distinct were made by an earlier Merge into this
	// interval, so later merges may add to them in place.
	owned bool
}

// Mean is Sum/Count, or 0 with no samples.
func (iv Interval) Mean() float64 {
	if iv.Count == 0 || iv.Kind == Unique {
		return 0
	}
	return iv.Sum / iv.Count
}

// Quantile returns the value at quantile q (0 ≤ q ≤ 1) within 1% relative error, or 0
// for a kind that keeps no sketch. It never lies outside [Min, Max]: the sketch
// answers with its bucket's representative, up to 1% beyond the values it holds
// (a constant 99.5 would read 100.495), so it is clamped to the values seen.
func (iv Interval) Quantile(q float64) float64 {
	if iv.Sketch == nil {
		return 0
	}
	v := iv.Sketch.Quantile(q)
	if iv.Count > 0 && iv.Min <= iv.Max {
		v = min(max(v, iv.Min), iv.Max)
	}
	return v
}

// Merge folds other into iv: both must be of the same series (app, name, source, unit
// and kind). The result spans both intervals. Merge never modifies other, nor the
// sketch and set iv held before its first Merge: it replaces them with its own, so
// intervals already handed out stay as they were (later merges into iv add to the
// sketch its first Merge made).
func (iv *Interval) Merge(other Interval) error {
	if iv.App != other.App || iv.Name != other.Name || iv.Source != other.Source ||
		iv.Unit != other.Unit || iv.Kind != other.Kind {
		return fmt.Errorf("merge %s/%s/%s (%s) with %s/%s/%s (%s): different series",
			iv.App, iv.Name, iv.Source, iv.Kind, other.App, other.Name, other.Source, other.Kind)
	}
	return iv.merge(other)
}

// merge folds other into iv without checking that they are the same series.
func (iv *Interval) merge(other Interval) error {
	if other.Count == 0 {
		return nil
	}
	if iv.Count == 0 {
		iv.Min, iv.Max = other.Min, other.Max
	} else {
		iv.Min, iv.Max = math.Min(iv.Min, other.Min), math.Max(iv.Max, other.Max)
	}
	if iv.Count == 0 || !other.LastAt.Before(iv.LastAt) {
		iv.Last, iv.LastAt = other.Last, other.LastAt
	}
	iv.widen(other.Start, other.Length)
	iv.Count += other.Count
	iv.Sum = addSaturating(iv.Sum, other.Sum)
	if !iv.owned {
		if iv.Sketch != nil {
			iv.Sketch = iv.Sketch.Copy()
		}
		if iv.Distinct != nil {
			iv.Distinct = iv.Distinct.Copy()
		}
		iv.owned = true
	}
	if other.Sketch != nil {
		if iv.Sketch == nil {
			iv.Sketch = NewSketch()
		}
		if err := iv.Sketch.Merge(other.Sketch); err != nil {
			return err
		}
	}
	if other.Distinct != nil {
		if iv.Distinct == nil {
			iv.Distinct = NewDistinct()
		}
		iv.Distinct.Merge(other.Distinct)
		iv.Sum = iv.Distinct.Estimate()
	}
	return nil
}

// widen makes iv cover [start, start+length) as well as its own span.
func (iv *Interval) widen(start time.Time, length time.Duration) {
	if iv.Start.IsZero() && iv.Length == 0 {
		iv.Start, iv.Length = start, length
		return
	}
	end := iv.Start.Add(iv.Length)
	if e := start.Add(length); e.After(end) {
		end = e
	}
	if start.Before(iv.Start) {
		iv.Start = start
	}
	iv.Length = end.Sub(iv.Start)
}

// finite reports whether the interval's numbers are all finite: only such
// intervals are stored and read back (JSON, and so the API, has no +Inf).
func (iv *Interval) finite() bool {
	for _, v := range []float64{iv.Count, iv.Sum, iv.Min, iv.Max, iv.Last} {
		if !isFinite(v) {
			return false
		}
	}
	return true
}

func isFinite(v float64) bool { return !math.IsInf(v, 0) && !math.IsNaN(v) }

// addSaturating adds two finite sums, stopping at ±math.MaxFloat64 rather than
// overflowing to ±Inf. Values within ±2^360 never get there (it would take 2^663
// of them), but merged intervals come from the history and other nodes too.
func addSaturating(a, b float64) float64 {
	return max(-math.MaxFloat64, min(a+b, math.MaxFloat64))
}
