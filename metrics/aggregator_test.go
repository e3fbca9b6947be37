package metrics_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/drainpipe/drainpipe/metrics"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func newAggregator(t testing.TB, cfg metrics.Config) *metrics.Aggregator {
	t.Helper()
	a, err := metrics.NewAggregator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// exactQuantile is the rank DDSketch estimates: the value at floor(q*(n-1)).
func exactQuantile(sorted []float64, q float64) float64 {
	return sorted[int(q*float64(len(sorted)-1))]
}

func distributions() map[string][]float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(n int, f func(i int) float64) []float64 {
		vs := make([]float64, n)
		for i := range vs {
			vs[i] = f(i)
		}
		return vs
	}
	return map[string][]float64{
		"uniform":        gen(100000, func(int) float64 { return rng.Float64() * 1000 }),
		"pareto":         gen(100000, func(int) float64 { return 1 / math.Pow(1-rng.Float64(), 1/1.16) }),
		"all equal":      gen(10000, func(int) float64 { return 42.5 }),
		"one outlier":    gen(10001, func(i int) float64 { return map[bool]float64{true: 1e108, false: 5 + rng.Float64()}[i == 0] }),
		"negatives":      gen(50000, func(int) float64 { return -rng.ExpFloat64() * 300 }),
		"mixed and zero": gen(60000, func(i int) float64 { return []float64{0, -rng.Float64() * 10, rng.Float64() * 1e6}[i%3] }),
		"zeros":          gen(1000, func(int) float64 { return 0 }),
		"tiny and huge":  gen(20000, func(i int) float64 { return math.Pow(10, float64(i%40)-20) }),
	}
}

func TestQuantileAccuracy(t *testing.T) {
	t.Parallel()
	for name, values := range distributions() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := newAggregator(t, metrics.Config{})
			for _, v := range values {
				a.Add("app", metrics.Sample{Name: "x", Kind: metrics.Distribution, Value: v, Time: t0})
			}
			ivs := a.Flush(t0.Add(time.Hour))
			if len(ivs) != 1 {
				t.Fatalf("%d intervals, want 1", len(ivs))
			}
			iv := ivs[0]
			sorted := slices.Sorted(slices.Values(values))
			for _, q := range []float64{0, 0.5, 0.95, 0.99, 1} {
				want, got := exactQuantile(sorted, q), iv.Quantile(q)
				if math.Abs(got-want) > 0.01*math.Abs(want) {
					t.Errorf("q%v = %v, want %v ±1%%", q, got, want)
				}
			}
			if iv.Count != float64(len(values)) || iv.Min != sorted[0] || iv.Max != sorted[len(sorted)-1] {
				t.Errorf("count %v min %v max %v, want %d %v %v", iv.Count, iv.Min, iv.Max, len(values), sorted[0], sorted[len(sorted)-1])
			}
		})
	}
}

// TestMergeEqualsUnion splits values across intervals and nodes, then checks that
// merging (also through MarshalBinary) gives what one interval of all of them gives.
func TestMergeEqualsUnion(t *testing.T) {
	t.Parallel()
	for name, values := range distributions() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			whole := newAggregator(t, metrics.Config{Interval: time.Hour})
			nodes := []*metrics.Aggregator{newAggregator(t, metrics.Config{}), newAggregator(t, metrics.Config{})}
			for i, v := range values {
				ts := t0.Add(time.Duration(i) * (50 * time.Minute / time.Duration(len(values))))
				s := metrics.Sample{Name: "x", Source: "web.1", Unit: "ms", Kind: metrics.Gauge, Value: v, Time: ts}
				whole.Add("app", s)
				nodes[i%2].Add("app", s)
				u := metrics.Sample{Name: "u", Kind: metrics.Unique, Value: 1, Str: fmt.Sprint(i % 3000), Time: ts}
				whole.Add("app", u)
				nodes[i%2].Add("app", u)
			}
			want := whole.Flush(t0.Add(2 * time.Hour))
			got := map[string]*metrics.Interval{}
			for _, n := range nodes {
				for _, iv := range n.Flush(t0.Add(2 * time.Hour)) {
					iv = roundTrip(t, iv)
					if m := got[iv.Name]; m != nil {
						if err := m.Merge(iv); err != nil {
							t.Fatal(err)
						}
					} else {
						got[iv.Name] = &iv
					}
				}
			}
			for _, w := range want {
				g := got[w.Name]
				if g == nil {
					t.Fatalf("no merged %s", w.Name)
				}
				if g.Count != w.Count || g.Min != w.Min || g.Max != w.Max || g.Last != w.Last ||
					math.Abs(g.Sum-w.Sum) > 1e-9*math.Abs(w.Sum) {
					t.Errorf("%s: merged count %v sum %v min %v max %v last %v; union %v %v %v %v %v",
						w.Name, g.Count, g.Sum, g.Min, g.Max, g.Last, w.Count, w.Sum, w.Min, w.Max, w.Last)
				}
				for _, q := range []float64{0.5, 0.95, 0.99} {
					if g.Quantile(q) != w.Quantile(q) {
						t.Errorf("%s q%v: merged %v, union %v", w.Name, q, g.Quantile(q), w.Quantile(q))
					}
				}
				if !g.Start.Equal(w.Start) || g.Length != 50*time.Minute {
					t.Errorf("%s: merged span %v+%v, want %v+50m", w.Name, g.Start, g.Length, w.Start)
				}
			}
		})
	}
}

func roundTrip(t *testing.T, iv metrics.Interval) metrics.Interval {
	t.Helper()
	if iv.Sketch != nil {
		b, err := iv.Sketch.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		iv.Sketch = new(metrics.Sketch)
		if err := iv.Sketch.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
	}
	if iv.Distinct != nil {
		b, err := iv.Distinct.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		iv.Distinct = new(metrics.Distinct)
		if err := iv.Distinct.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
	}
	return iv
}

func TestDistinct(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 1000, metrics.DistinctExact, metrics.DistinctExact + 1, 5000, 100000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			d := metrics.NewDistinct()
			for i := range n {
				d.Add(fmt.Sprintf("user-%d", i))
				d.Add(fmt.Sprintf("user-%d", i/2)) // repeats must not count
			}
			got := d.Estimate()
			tol := 0.0
			if n > metrics.DistinctExact {
				tol = 0.05 * float64(n) // 3 standard errors of a 2^12-register HyperLogLog
			}
			if math.Abs(got-float64(n)) > tol {
				t.Errorf("estimate %v, want %d ± %v", got, n, tol)
			}
		})
	}
}

func TestMergeRefusesOtherSeries(t *testing.T) {
	t.Parallel()
	a := metrics.Interval{App: "a", Name: "x", Kind: metrics.Counter, Count: 1}
	for _, b := range []metrics.Interval{
		{App: "b", Name: "x", Kind: metrics.Counter, Count: 1},
		{App: "a", Name: "y", Kind: metrics.Counter, Count: 1},
		{App: "a", Name: "x", Source: "web.1", Kind: metrics.Counter, Count: 1},
		{App: "a", Name: "x", Unit: "ms", Kind: metrics.Counter, Count: 1},
		{App: "a", Name: "x", Kind: metrics.Gauge, Count: 1},
	} {
		if err := a.Merge(b); err == nil {
			t.Errorf("merge of %+v into %+v succeeded", b, a)
		}
	}
}

func TestSeriesCap(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	a := newAggregator(t, metrics.Config{MaxSeriesPerApp: 10, Registerer: reg})
	for i := range 25 {
		for range 2 {
			a.Add("capped", metrics.Sample{Name: "n", Source: fmt.Sprintf("web.%d", i), Kind: metrics.Counter, Value: 1, Time: t0})
		}
	}
	a.Add("other", metrics.Sample{Name: "n", Kind: metrics.Counter, Value: 1, Time: t0})
	ivs := a.Flush(t0.Add(time.Hour))
	perApp := map[string]int{}
	for _, iv := range ivs {
		perApp[iv.App]++
		if iv.Sum != 2 && iv.App == "capped" {
			t.Errorf("%s sum %v, want 2", iv.Source, iv.Sum)
		}
	}
	if perApp["capped"] != 10 || perApp["other"] != 1 {
		t.Errorf("intervals per app %v, want capped:10 other:1", perApp)
	}
	want := `
# HELP drainpipe_metrics_series_dropped_total Samples dropped because their app had reached its cap on series.
# TYPE drainpipe_metrics_series_dropped_total counter
drainpipe_metrics_series_dropped_total{app="capped"} 30
drainpipe_metrics_series_dropped_total{app="other"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "drainpipe_metrics_series_dropped_total"); err != nil {
		t.Error(err)
	}
	// After the flush the series are closed and the cap has room again.
	a.Add("capped", metrics.Sample{Name: "new", Kind: metrics.Counter, Value: 1, Time: t0.Add(2 * time.Hour)})
	if ivs := a.Flush(t0.Add(4 * time.Hour)); len(ivs) != 1 {
		t.Errorf("after flush: %d intervals, want 1", len(ivs))
	}
}

func TestFlushIntervals(t *testing.T) {
	t.Parallel()
	a := newAggregator(t, metrics.Config{Interval: time.Minute, MaxOpenIntervals: 2})
	add := func(at time.Duration, v float64) {
		a.Add("app", metrics.Sample{Name: "x", Kind: metrics.Gauge, Value: v, Time: t0.Add(at)})
	}
	add(10*time.Second, 1)
	add(70*time.Second, 2)
	add(20*time.Second, 3)
	add(5*time.Second, 9) // earlier time: not the last value
	if ivs := a.Flush(t0.Add(59 * time.Second)); len(ivs) != 0 {
		t.Fatalf("flush before the end: %d intervals", len(ivs))
	}
	ivs := a.Flush(t0.Add(time.Minute))
	if len(ivs) != 1 {
		t.Fatalf("%d intervals, want 1", len(ivs))
	}
	iv := ivs[0]
	if iv.Count != 3 || iv.Sum != 13 || iv.Min != 1 || iv.Max != 9 || iv.Last != 3 || iv.Mean() != 13.0/3 ||
		!iv.Start.Equal(t0) || iv.Length != time.Minute {
		t.Errorf("interval %+v", iv)
	}
	// With two intervals open, a third closes the oldest early, losing nothing.
	add(5*time.Minute, 5)
	add(10*time.Minute, 6)
	ivs = a.Flush(t0.Add(90 * time.Second))
	if len(ivs) != 1 || ivs[0].Sum != 2 || !ivs[0].Start.Equal(t0.Add(time.Minute)) {
		t.Errorf("early-closed: %+v, want the 1m interval holding 2", ivs)
	}
	// A late sample for a flushed interval comes out again, to be merged.
	add(80*time.Second, 7)
	ivs = a.Flush(t0.Add(time.Hour))
	var sums []float64
	for _, iv := range ivs {
		sums = append(sums, iv.Sum)
	}
	if !slices.Equal(sums, []float64{7, 5, 6}) {
		t.Errorf("sums of the rest %v, want [7 5 6]", sums)
	}
}

func TestAddRefusesBadSamples(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	a := newAggregator(t, metrics.Config{Registerer: reg})
	for _, s := range []metrics.Sample{
		{Name: "", Kind: metrics.Counter, Value: 1},
		{Name: "x", Kind: 0, Value: 1},
		{Name: "x", Kind: metrics.Gauge, Value: math.NaN()},
		{Name: "x", Kind: metrics.Gauge, Value: math.Inf(1)},
	} {
		a.Add("app", s)
	}
	rec := parseLine(t, "<190>1 2013-07-22T00:06:26+00:00 host app web.1 - measure#a=x measure#b=2 count#c=y")
	if err := a.AddRecord(rec); err == nil {
		t.Error("AddRecord of bad fields: no error")
	}
	if got := testutil.ToFloat64(counterChild(t, reg, "drainpipe_metrics_extract_failures_total", "myapp")); got != 2 {
		t.Errorf("myapp failures %v, want 2", got)
	}
	if got := testutil.ToFloat64(counterChild(t, reg, "drainpipe_metrics_extract_failures_total", "app")); got != 4 {
		t.Errorf("app failures %v, want 4", got)
	}
	if ivs := a.Flush(t0.Add(time.Hour)); len(ivs) != 1 || ivs[0].Name != "b" {
		t.Errorf("intervals %+v, want only b", ivs)
	}
}

func counterChild(t *testing.T, g prometheus.Gatherer, name, app string) prometheus.Collector {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.Metric {
			if m.GetLabel()[0].GetValue() == app {
				c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x", Help: "x"})
				c.Add(m.GetCounter().GetValue())
				return c
			}
		}
	}
	t.Fatalf("no %s{app=%q}", name, app)
	return nil
}

// TestAddMatchesModel adds random samples, out of order and across intervals, with
// flushes in between, and checks that the intervals flushed hold every sample in the
// right series and interval: the caches on the hot path must never change a result.
func TestAddMatchesModel(t *testing.T) {
	t.Parallel()
	type key struct {
		app, name, source, unit string
		kind                    metrics.Kind
		start                   int64
	}
	type stats struct{ count, sum, min, max float64 }
	fold := func(m map[key]stats, k key, count, sum, lo, hi float64) {
		s, ok := m[k]
		if !ok {
			s.min, s.max = lo, hi
		}
		s.count, s.sum, s.min, s.max = s.count+count, s.sum+sum, min(s.min, lo), max(s.max, hi)
		m[k] = s
	}
	rng := rand.New(rand.NewPCG(7, 8))
	pick := func(xs ...string) string { return strings.Clone(xs[rng.IntN(len(xs))]) }
	kinds := []metrics.Kind{metrics.Counter, metrics.Gauge, metrics.Distribution}
	zones := []*time.Location{time.UTC, time.FixedZone("x", -7*3600)}
	a := newAggregator(t, metrics.Config{Interval: time.Minute, MaxOpenIntervals: 2})
	want, got := map[key]stats{}, map[key]stats{}
	collect := func(ivs []metrics.Interval) {
		for _, iv := range ivs {
			k := key{iv.App, iv.Name, iv.Source, iv.Unit, iv.Kind, iv.Start.Unix()}
			fold(got, k, iv.Count, iv.Sum, iv.Min, iv.Max)
		}
	}
	names := []string{"router.requests", "router.status.2xx", "router.errors.H12", "router.connect", "router.service", "x"}
	now, at := t0, t0
	var app, source, unit string
	var kind metrics.Kind
	for i := range 20000 {
		if rng.IntN(200) == 0 {
			now = now.Add(time.Duration(rng.IntN(90)) * time.Second)
			collect(a.Flush(now))
		}
		// A run of samples with one time and source, as a line's are; a quarter of the
		// runs repeat the last one's series and time, as the lines of a busy dyno do,
		// even across a flush.
		if rng.IntN(4) != 0 {
			at = now.Add(time.Duration(rng.IntN(300)-200) * time.Second).In(zones[rng.IntN(len(zones))])
			app, unit, kind = pick("a", "b"), pick("", "ms", "s"), kinds[rng.IntN(len(kinds))]
			source = pick("", "web.1", "web.2", "web.11", "worker.1", fmt.Sprint("run.", i%50))
		}
		for _, name := range names[:1+rng.IntN(len(names))] {
			s := metrics.Sample{Name: strings.Clone(name), Source: strings.Clone(source), Unit: unit, Kind: kind,
				Value: float64(rng.IntN(2000) - 100), Time: at}
			a.Add(app, s)
			k := key{app, s.Name, s.Source, s.Unit, s.Kind, at.Truncate(time.Minute).Unix()}
			fold(want, k, 1, s.Value, s.Value, s.Value)
		}
	}
	collect(a.Flush(now.Add(time.Hour)))
	if len(got) != len(want) {
		t.Errorf("%d series-intervals flushed, want %d", len(got), len(want))
	}
	for k, w := range want {
		if g := got[k]; g != w {
			t.Errorf("%+v: got %+v, want %+v", k, g, w)
		}
	}
}

// TestSignedZero: "-0" is a value a line can hold, and min and max keep its sign.
func TestSignedZero(t *testing.T) {
	t.Parallel()
	for _, order := range [][]float64{{0, math.Copysign(0, -1)}, {math.Copysign(0, -1), 0}, {0, math.Copysign(0, -1), 0}} {
		a := newAggregator(t, metrics.Config{})
		for _, v := range order {
			a.Add("app", metrics.Sample{Name: "x", Kind: metrics.Gauge, Value: v, Time: t0})
		}
		iv := a.Flush(t0.Add(time.Hour))[0]
		if !math.Signbit(iv.Min) || math.Signbit(iv.Max) {
			t.Errorf("%v: min %v max %v, want -0 and +0", order, iv.Min, iv.Max)
		}
	}
}

// TestQuantilesWithinMinMax: a quantile never lies outside the values seen, so a
// `p95 > 100` rule does not fire on a constant 99.5, nor p99 exceed max.
func TestQuantilesWithinMinMax(t *testing.T) {
	t.Parallel()
	seq := func(lo, hi float64) []float64 {
		var vs []float64
		for v := lo; v <= hi; v++ {
			vs = append(vs, v)
		}
		return vs
	}
	for _, tt := range []struct {
		name   string
		kind   metrics.Kind
		values []float64
	}{
		{"one value", metrics.Distribution, []float64{99.5}},
		{"a constant gauge", metrics.Gauge, []float64{99.5, 99.5, 99.5}},
		{"1 to 1000", metrics.Distribution, seq(1, 1000)},
		{"negatives", metrics.Distribution, seq(-1000, -1)},
		{"tiny", metrics.Gauge, []float64{0.0123}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAggregator(t, metrics.Config{})
			for _, v := range tt.values {
				a.Add("app", metrics.Sample{Name: "m", Kind: tt.kind, Value: v, Time: t0})
			}
			iv := only(t, a.Flush(t0.Add(time.Minute)))
			for _, q := range []float64{0, 0.5, 0.95, 0.99, 1} {
				if got := iv.Quantile(q); got < iv.Min || got > iv.Max {
					t.Errorf("q%v = %v, outside [%v, %v]", q, got, iv.Min, iv.Max)
				}
			}
			// So is what the history answers.
			st := openStore(t, metrics.StoreConfig{Path: filepath.Join(t.TempDir(), "metrics.db")})
			if err := st.Save(context.Background(), []metrics.Interval{iv}); err != nil {
				t.Fatal(err)
			}
			got, err := st.Query(context.Background(), "app", t0, t0.Add(time.Minute), "")
			if err != nil || len(got) != 1 {
				t.Fatalf("query: %+v %v", got, err)
			}
			for _, p := range []float64{got[0].P50, got[0].P95, got[0].P99} {
				if p < got[0].Min || p > got[0].Max {
					t.Errorf("history: quantile %v outside [%v, %v]", p, got[0].Min, got[0].Max)
				}
			}
		})
	}
}

// TestSampleTimeOutsideRetention: a line dated more than a day after it was
// received, or older than the retention, is counted at its received time (the
// archive's rule), so a wrong clock makes no interval that retention never prunes.
func TestSampleTimeOutsideRetention(t *testing.T) {
	t.Parallel()
	received := t0.Add(30 * time.Second)
	for _, tt := range []struct {
		name      string
		cfg       metrics.Config
		sink      time.Duration // the retention of a Sink given the aggregator, 0 for none
		at, filed time.Time
	}{
		{"on time", metrics.Config{}, 0, t0.Add(-time.Hour), t0.Add(-time.Hour)},
		{"in 2100", metrics.Config{}, 0, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), t0},
		{"23 hours ahead", metrics.Config{}, 0, t0.Add(23 * time.Hour), t0.Add(23 * time.Hour)},
		{"25 hours ahead", metrics.Config{}, 0, t0.Add(25 * time.Hour), t0},
		{"29 days old", metrics.Config{}, 0, t0.Add(-29 * 24 * time.Hour), t0.Add(-29 * 24 * time.Hour)},
		{"31 days old", metrics.Config{}, 0, t0.Add(-31 * 24 * time.Hour), t0},
		{"the sink's retention", metrics.Config{}, 7 * 24 * time.Hour, t0.Add(-8 * 24 * time.Hour), t0},
		{"the config's retention wins", metrics.Config{Retention: 90 * 24 * time.Hour}, 7 * 24 * time.Hour,
			t0.Add(-60 * 24 * time.Hour), t0.Add(-60 * 24 * time.Hour)},
		{"in 1970", metrics.Config{}, 0, time.Unix(0, 0).UTC(), t0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAggregator(t, tt.cfg)
			if tt.sink > 0 {
				metrics.NewSink(metrics.SinkConfig{Aggregator: a, Retention: tt.sink})
			}
			rec := parseLine(t, "<190>1 2013-07-22T00:06:26+00:00 host app web.1 - count#jobs=1")
			rec.Time, rec.Received = tt.at, received
			if err := a.AddRecord(rec); err != nil {
				t.Fatal(err)
			}
			iv := only(t, a.Flush(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)))
			if !iv.Start.Equal(tt.filed) {
				t.Errorf("filed at %v, want %v", iv.Start, tt.filed)
			}
		})
	}
}
