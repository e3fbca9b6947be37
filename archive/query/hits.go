package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe/api"
)

// ErrBadStep means a histogram's step cannot cut its window: not positive, or
// too short for it.
var ErrBadStep = errors.New("bad step")

// MaxIntervals caps the intervals of a histogram.
const MaxIntervals = 10_000

// steps are the interval lengths AutoStep picks from.
var steps = []time.Duration{
	time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour,
}

// AutoStep is the shortest round interval that cuts [start, end) into at most
// about a hundred intervals.
func AutoStep(start, end time.Time) time.Duration {
	for _, s := range steps {
		if end.Sub(start)/s <= 120 {
			return s
		}
	}
	return steps[len(steps)-1]
}

// Hits counts the lines of q in each step-long interval of [start, end) (the
// first interval starts at start rounded down to a multiple of step since the
// Unix epoch), in one series, or one per value of the field by: the top values
// with the most lines, and the others summed in one series.
func (r *Reader) Hits(ctx context.Context, q *logstorage.Query, start, end time.Time, step time.Duration, by string, top int) (api.Hits, error) {
	if step <= 0 {
		return api.Hits{}, fmt.Errorf("%w: %s: want a positive interval", ErrBadStep, step)
	}
	first := time.Unix(0, start.UnixNano()-mod(start.UnixNano(), int64(step))).UTC()
	n := int((end.Sub(first) + step - 1) / step)
	if n > MaxIntervals {
		return api.Hits{}, fmt.Errorf("%w: %s cuts %s to %s into %d intervals, more than %d: take a longer step", ErrBadStep, step, start.Format(time.RFC3339), end.Format(time.RFC3339), n, MaxIntervals)
	}
	hq := q.CloneWithTimeFilter(q.GetTimestamp(), start.UnixNano(), end.UnixNano()-1)
	var fields []string
	if by != "" {
		fields = []string{by}
	}
	hq.AddCountByTimePipe(int64(step), 0, fields)
	c := &hitCounter{counts: map[string][]int64{}, by: by != "", first: first.UnixNano(), step: int64(step), n: n}
	if err := r.run(ctx, hq, nil, c.writeBlock); err != nil {
		return api.Hits{}, err
	}
	if c.bad != nil {
		return api.Hits{}, c.bad
	}
	h := api.Hits{Start: first, End: end, Step: step.Seconds(), Field: by, Times: make([]time.Time, n)}
	for i := range h.Times {
		h.Times[i] = first.Add(time.Duration(i) * step)
	}
	h.Series, h.Total = topSeries(c.counts, top, n)
	if by == "" && len(h.Series) == 0 {
		h.Series = []api.HitsSeries{{Counts: make([]int64, n)}}
	}
	return h, nil
}

// hitCounter adds the rows of `stats by (_time:step, by) count()` to counts
// per value of by, interval by interval.
type hitCounter struct {
	mu     sync.Mutex
	counts map[string][]int64
	by     bool
	first  int64 // the first interval's start, in nanoseconds
	step   int64
	n      int // intervals
	bad    error
}

func (c *hitCounter) writeBlock(_ uint, db *logstorage.DataBlock) {
	cols := db.GetColumns(false)
	if len(cols) < 2 {
		return
	}
	times, hits := cols[0].Values, cols[len(cols)-1].Values
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range times {
		ts, ok := logstorage.TryParseTimestampRFC3339Nano(times[i])
		n, err := strconv.ParseInt(hits[i], 10, 64)
		if !ok || err != nil {
			c.bad = fmt.Errorf("histogram row %q %q: not a time and a count", times[i], hits[i])
			continue
		}
		k := int((ts - c.first) / c.step)
		if k < 0 || k >= c.n {
			continue
		}
		value := ""
		if c.by {
			value = cols[1].Values[i]
		}
		s, ok := c.counts[value]
		if !ok {
			s = make([]int64, c.n)
			c.counts[strings.Clone(value)] = s
		}
		s[k] += n
	}
}

// topSeries turns counts by value into series, the top values with the most
// lines first and the rest summed in an Other series; and the total.
func topSeries(counts map[string][]int64, top, n int) ([]api.HitsSeries, int64) {
	var series []api.HitsSeries
	var total int64
	for v, c := range counts {
		s := api.HitsSeries{Value: v, Counts: c}
		for _, x := range c {
			s.Total += x
		}
		total += s.Total
		series = append(series, s)
	}
	slices.SortFunc(series, func(a, b api.HitsSeries) int {
		if a.Total != b.Total {
			return int(b.Total - a.Total)
		}
		return strings.Compare(a.Value, b.Value)
	})
	if top <= 0 || len(series) <= top {
		return series, total
	}
	other := api.HitsSeries{Other: true, Counts: make([]int64, n)}
	for _, s := range series[top:] {
		for i, x := range s.Counts {
			other.Counts[i] += x
		}
		other.Total += s.Total
	}
	return append(series[:top], other), total
}

// mod is a mod m, in [0, m) also for negative a.
func mod(a, m int64) int64 {
	r := a % m
	if r < 0 {
		r += m
	}
	return r
}
