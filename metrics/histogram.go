package metrics

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// An OpenTelemetry histogram reaches the interval's sketch as one representative
// value per non-empty bucket, added with the bucket's count: count, sum, min and max
// stay exact when the sender gives them, and a quantile is off by at most the
// distance from the value to its bucket's representative, plus the sketch's 1%.
//
//   - Explicit buckets (lo, hi] are represented by their midpoint, so a quantile is
//     within half its bucket's width; the open first and last buckets by their
//     finite bound, or by the midpoint between it and the sender's min or max.
//   - Exponential buckets (b^i, b^(i+1)], b = 2^(2^-scale), are represented by
//     their geometric midpoint b^(i+1/2), a relative error of at most
//     2^(2^-(scale+1)) - 1: 0.14% at scale 8, 1.1% at scale 5, 4.4% at scale 3.
//
// Representatives are kept within the sender's min and max when it sends them.

// weighted is a bucket's representative value and how many values it stands for.
type weighted struct {
	v float64
	n uint64
}

// addHistogram adds the values a delta histogram point describes, or refuses the
// point, changing nothing, when its sum would make the interval's overflow or a
// value is beyond what the sketch takes (Validate keeps both from happening).
func (b *bucket) addHistogram(p *Point, t time.Time) error {
	if p.Count == 0 {
		return nil
	}
	ws := histogramValues(p)
	lo, hi := ws[0].v, ws[len(ws)-1].v
	if p.HasMin {
		lo = p.Min
	}
	if p.HasMax {
		hi = p.Max
	}
	sum := p.Sum
	if !p.HasSum {
		sum = 0
		for _, w := range ws {
			sum += w.v * float64(w.n)
		}
	}
	iv := &b.iv
	for _, w := range ws {
		if !inBounds(w.v) {
			return fmt.Errorf("%w: metric %q: a bucket's value %g is beyond ±2^360", ErrBadPoint, p.Name, w.v)
		}
	}
	if !isFinite(iv.Sum + sum) {
		return fmt.Errorf("%w: metric %q: sum %g would overflow the interval's", ErrBadPoint, p.Name, sum)
	}
	n := float64(p.Count)
	if iv.Count == 0 {
		iv.Min, iv.Max = lo, hi
	} else {
		iv.Min, iv.Max = min(iv.Min, lo), max(iv.Max, hi)
	}
	if iv.Count == 0 || !t.Before(iv.LastAt) {
		iv.Last, iv.LastAt = sum/n, t // a histogram point's one value: its mean
	}
	iv.Count += n
	iv.Sum += sum
	for _, w := range ws {
		if err := iv.Sketch.AddCount(w.v, float64(w.n)); err != nil {
			return err // cannot happen: every value is within bounds
		}
	}
	return nil
}

// histogramValues returns the representatives of p's non-empty buckets in
// increasing order; at least one when p.Count > 0.
func histogramValues(p *Point) []weighted {
	var ws []weighted
	switch {
	case p.Type == PointExpHistogram:
		ws = expValues(p)
	case len(p.BucketCounts) > 0:
		ws = explicitValues(p)
	}
	if len(ws) == 0 && p.Count > 0 {
		// Only count and sum: every value at the mean.
		v := 0.0
		if p.HasSum {
			v = p.Sum / float64(p.Count)
		}
		ws = []weighted{{v, p.Count}}
	}
	for i := range ws {
		if p.HasMin {
			ws[i].v = max(ws[i].v, p.Min)
		}
		if p.HasMax {
			ws[i].v = min(ws[i].v, p.Max)
		}
	}
	return ws
}

func explicitValues(p *Point) []weighted {
	var ws []weighted
	for i, c := range p.BucketCounts {
		if c == 0 {
			continue
		}
		lo, hi := math.Inf(-1), math.Inf(1)
		if i > 0 {
			lo = p.Bounds[i-1]
		}
		if i < len(p.Bounds) {
			hi = p.Bounds[i]
		}
		if p.HasMin && p.Min > lo {
			lo = p.Min
		}
		if p.HasMax && p.Max < hi {
			hi = p.Max
		}
		var v float64
		switch loInf, hiInf := math.IsInf(lo, 0), math.IsInf(hi, 0); {
		case !loInf && !hiInf:
			v = lo/2 + hi/2
		case !hiInf:
			v = hi
		case !loInf:
			v = lo
		case p.HasSum:
			v = p.Sum / float64(p.Count)
		}
		ws = append(ws, weighted{v, c})
	}
	return ws
}

func expValues(p *Point) []weighted {
	step := math.Exp2(-float64(p.Scale))
	rep := func(idx int64) float64 { return math.Exp2((float64(idx) + 0.5) * step) }
	var ws []weighted
	for i := len(p.Negative.Counts) - 1; i >= 0; i-- {
		if c := p.Negative.Counts[i]; c > 0 {
			ws = append(ws, weighted{-rep(int64(p.Negative.Offset) + int64(i)), c})
		}
	}
	if p.ZeroCount > 0 {
		ws = append(ws, weighted{0, p.ZeroCount})
	}
	for i, c := range p.Positive.Counts {
		if c > 0 {
			ws = append(ws, weighted{rep(int64(p.Positive.Offset) + int64(i)), c})
		}
	}
	return ws
}

// subtractHistogram returns the histogram of the values cur has and prev had not,
// both cumulative points of one series; ok is false when cur cannot follow prev
// (its buckets changed shape or some count went down: the series restarted).
func subtractHistogram(cur, prev *Point) (Point, bool) {
	d := *cur
	d.Cumulative, d.HasMin, d.HasMax = false, false, false
	d.Count = cur.Count - prev.Count
	d.HasSum = cur.HasSum && prev.HasSum
	d.Sum = cur.Sum - prev.Sum
	if cur.Type == PointHistogram {
		if !slices.Equal(cur.Bounds, prev.Bounds) || len(cur.BucketCounts) != len(prev.BucketCounts) {
			return Point{}, false
		}
		d.BucketCounts = make([]uint64, len(cur.BucketCounts))
		for i, c := range cur.BucketCounts {
			if c < prev.BucketCounts[i] {
				return Point{}, false
			}
			d.BucketCounts[i] = c - prev.BucketCounts[i]
		}
		return d, true
	}
	// A cumulative exponential histogram may lower its scale as its range grows:
	// compare both at the lower one.
	scale := min(cur.Scale, prev.Scale)
	if cur.ZeroCount < prev.ZeroCount {
		return Point{}, false
	}
	d.Scale, d.ZeroCount = scale, cur.ZeroCount-prev.ZeroCount
	var okP, okN bool
	d.Positive, okP = subtractBuckets(downscale(cur.Positive, cur.Scale-scale), downscale(prev.Positive, prev.Scale-scale))
	d.Negative, okN = subtractBuckets(downscale(cur.Negative, cur.Scale-scale), downscale(prev.Negative, prev.Scale-scale))
	return d, okP && okN
}

// downscale merges buckets by 2^by: index i becomes i >> by.
func downscale(b ExpBuckets, by int32) ExpBuckets {
	if by <= 0 || len(b.Counts) == 0 {
		return b
	}
	lo := int64(b.Offset) >> by
	hi := (int64(b.Offset) + int64(len(b.Counts)) - 1) >> by
	out := make([]uint64, hi-lo+1)
	for i, c := range b.Counts {
		out[(int64(b.Offset)+int64(i))>>by-lo] += c
	}
	return ExpBuckets{Offset: int32(lo), Counts: out}
}

// subtractBuckets returns cur minus prev, bucket by bucket; ok is false when prev
// has a value where cur has fewer.
func subtractBuckets(cur, prev ExpBuckets) (ExpBuckets, bool) {
	out := slices.Clone(cur.Counts)
	for i, c := range prev.Counts {
		if c == 0 {
			continue
		}
		j := int64(prev.Offset) + int64(i) - int64(cur.Offset)
		if j < 0 || j >= int64(len(out)) || out[j] < c {
			return ExpBuckets{}, false
		}
		out[j] -= c
	}
	return ExpBuckets{Offset: cur.Offset, Counts: out}, true
}
