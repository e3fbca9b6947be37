package metrics_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/metrics"
)

// pointRecord is the record the OTLP receiver journals for p at time at, from dyno.
func pointRecord(p metrics.Point, at time.Time, dyno string) drainpipe.Record {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	return drainpipe.Record{App: "app", Time: at, Source: "app", Dyno: dyno, MsgID: metrics.PointMsgID,
		Message: p.Summary(), Attrs: p.AppendAttrs(nil)}
}

// aggregate adds the records and returns every interval, flushed an hour later.
func aggregate(t *testing.T, cfg metrics.Config, recs ...drainpipe.Record) []metrics.Interval {
	t.Helper()
	a := newAggregator(t, cfg)
	for _, r := range recs {
		if err := a.AddRecord(r); err != nil {
			t.Fatalf("AddRecord: %v", err)
		}
	}
	return a.Flush(t0.Add(24 * time.Hour))
}

// only returns the one interval of ivs.
func only(t *testing.T, ivs []metrics.Interval) metrics.Interval {
	t.Helper()
	if len(ivs) != 1 {
		t.Fatalf("%d intervals, want 1: %+v", len(ivs), ivs)
	}
	return ivs[0]
}

func TestPointGaugeAndSums(t *testing.T) {
	labels := metrics.FormatLabels([]drainpipe.Attr{{Key: "state", Value: "used"}})
	gauge := metrics.Point{Name: "system.memory.usage", Unit: "By", Type: metrics.PointGauge, Labels: labels}
	delta := metrics.Point{Name: "http.requests", Unit: "{request}", Type: metrics.PointSum, Monotonic: true}
	updown := metrics.Point{Name: "queue.depth", Unit: "1", Type: metrics.PointSum, Cumulative: true, Stream: "q"}
	at := func(p metrics.Point, v float64, sec int) drainpipe.Record {
		p.Value = v
		return pointRecord(p, t0.Add(time.Duration(sec)*time.Second), "web.1")
	}
	ivs := aggregate(t, metrics.Config{},
		at(gauge, 100, 1), at(gauge, 300, 2), at(gauge, 200, 3),
		at(delta, 5, 1), at(delta, 7, 2),
		at(updown, 4, 1), at(updown, 2, 2))
	got := map[string]metrics.Interval{}
	for _, iv := range ivs {
		got[iv.Name] = iv
	}
	g := got[`system.memory.usage{state="used"}`]
	if g.Kind != metrics.Gauge || g.Unit != "bytes" || g.Source != "web.1" || g.Count != 3 || g.Last != 200 || g.Min != 100 || g.Max != 300 {
		t.Errorf("gauge %+v", g)
	}
	if c := got["http.requests"]; c.Kind != metrics.Counter || c.Unit != "" || c.Sum != 12 {
		t.Errorf("delta sum %+v, want a counter of 12 with no unit", c)
	}
	if u := got["queue.depth"]; u.Kind != metrics.Gauge || u.Last != 2 || u.Max != 4 {
		t.Errorf("cumulative up-down sum %+v, want a gauge last 2 max 4", u)
	}
}

func TestCumulativeSumBecomesIncreases(t *testing.T) {
	start := t0.Add(-30 * time.Second)
	counter := func(v float64, sec int, start time.Time) drainpipe.Record {
		p := metrics.Point{Name: "requests", Type: metrics.PointSum, Cumulative: true, Monotonic: true,
			Stream: "s1", Start: start, Value: v}
		return pointRecord(p, t0.Add(time.Duration(sec)*time.Second), "web.1")
	}
	tests := []struct {
		name string
		recs []drainpipe.Record
		want float64
	}{
		{"a fresh counter counts from its start", []drainpipe.Record{counter(10, 0, start), counter(25, 10, start), counter(40, 20, start)}, 40},
		{"a repeated point (an exporter's retry) adds nothing", []drainpipe.Record{counter(10, 0, start), counter(25, 10, start), counter(25, 10, start)}, 25},
		{"an older point adds nothing", []drainpipe.Record{counter(10, 0, start), counter(25, 10, start), counter(20, 5, start)}, 25},
		{"a counter that began long ago: its first point is a baseline", []drainpipe.Record{counter(1e6, 0, t0.Add(-24*time.Hour)), counter(1e6+7, 10, t0.Add(-24*time.Hour))}, 7},
		{"a restart (new start time) counts all of the new value", []drainpipe.Record{counter(10, 0, start), counter(3, 10, t0.Add(5*time.Second))}, 13},
		{"a value that goes down is a restart", []drainpipe.Record{counter(10, 0, start), counter(4, 10, start)}, 14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iv := only(t, aggregate(t, metrics.Config{}, tt.recs...))
			if iv.Kind != metrics.Counter || iv.Sum != tt.want {
				t.Fatalf("interval %s sum %v, want a counter of %v", iv.Kind, iv.Sum, tt.want)
			}
		})
	}
}

// explicitHistogram builds a delta histogram point of values over bounds.
func explicitHistogram(values, bounds []float64) metrics.Point {
	p := metrics.Point{Name: "latency", Unit: "ms", Type: metrics.PointHistogram, Bounds: bounds,
		BucketCounts: make([]uint64, len(bounds)+1), HasSum: true, HasMin: true, HasMax: true, Min: math.Inf(1), Max: math.Inf(-1)}
	for _, v := range values {
		i, _ := slices.BinarySearch(bounds, v) // bucket i holds (bounds[i-1], bounds[i]]
		p.BucketCounts[i]++
		p.Count++
		p.Sum += v
		p.Min, p.Max = min(p.Min, v), max(p.Max, v)
	}
	return p
}

func TestExplicitHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	bounds := []float64{5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500}
	var values []float64
	var recs []drainpipe.Record
	for i := range 20 { // 20 delta points of 500 values each
		batch := make([]float64, 500)
		for j := range batch {
			batch[j] = rng.ExpFloat64() * 200
		}
		values = append(values, batch...)
		recs = append(recs, pointRecord(explicitHistogram(batch, bounds), t0.Add(time.Duration(i)*time.Second), "web.1"))
	}
	iv := only(t, aggregate(t, metrics.Config{}, recs...))
	sorted := slices.Sorted(slices.Values(values))
	var sum float64
	for _, v := range values {
		sum += v
	}
	if iv.Kind != metrics.Distribution || iv.Count != float64(len(values)) || math.Abs(iv.Sum-sum) > 1e-6*sum ||
		iv.Min != sorted[0] || iv.Max != sorted[len(sorted)-1] {
		t.Fatalf("interval %s count %v sum %v min %v max %v, want exact %d %v %v %v",
			iv.Kind, iv.Count, iv.Sum, iv.Min, iv.Max, len(values), sum, sorted[0], sorted[len(sorted)-1])
	}
	// A quantile lands in the bucket of the true value: within the bucket's width
	// (half of it from the midpoint), plus the sketch's 1%.
	for _, q := range []float64{0.5, 0.9, 0.99} {
		want, got := exactQuantile(sorted, q), iv.Quantile(q)
		i, _ := slices.BinarySearch(bounds, want)
		lo, hi := sorted[0], sorted[len(sorted)-1]
		if i > 0 {
			lo = bounds[i-1]
		}
		if i < len(bounds) {
			hi = bounds[i]
		}
		if got < lo*0.99 || got > hi*1.01 {
			t.Errorf("q%v = %v, want within the bucket (%v, %v] of %v", q, got, lo, hi, want)
		}
	}
}

func TestCumulativeHistogramBecomesIncreases(t *testing.T) {
	bounds := []float64{10, 100}
	first := explicitHistogram([]float64{1, 50, 500}, bounds)
	second := explicitHistogram([]float64{1, 50, 500, 2, 3, 60}, bounds)
	for _, p := range []*metrics.Point{&first, &second} {
		p.Cumulative, p.Stream, p.Start = true, "h", t0.Add(-10*time.Second)
	}
	recs := []drainpipe.Record{pointRecord(first, t0, "web.1"), pointRecord(second, t0.Add(10*time.Second), "web.1")}
	iv := only(t, aggregate(t, metrics.Config{}, recs...))
	// Both points count: the first whole (its series started 10 s before), the second
	// for what it added: 2, 3 and 60.
	if iv.Count != 6 || iv.Sum != 616 {
		t.Fatalf("count %v sum %v, want 6 and 616", iv.Count, iv.Sum)
	}
	if iv.Quantile(0) > 10 || iv.Quantile(1) < 100 {
		t.Fatalf("quantiles 0 and 1: %v and %v, want in the first and last buckets", iv.Quantile(0), iv.Quantile(1))
	}
}

// expHistogram builds a delta exponential histogram point of values at scale.
func expHistogram(values []float64, scale int32) metrics.Point {
	p := metrics.Point{Name: "duration", Unit: "s", Type: metrics.PointExpHistogram, Scale: scale, HasSum: true}
	pos := map[int64]uint64{}
	neg := map[int64]uint64{}
	for _, v := range values {
		p.Count++
		p.Sum += v
		if v == 0 {
			p.ZeroCount++
			continue
		}
		// Bucket i holds (2^(i/2^scale), 2^((i+1)/2^scale)].
		idx := int64(math.Ceil(math.Log2(math.Abs(v))*math.Exp2(float64(scale)))) - 1
		if v > 0 {
			pos[idx]++
		} else {
			neg[idx]++
		}
	}
	p.Positive, p.Negative = expBuckets(pos), expBuckets(neg)
	return p
}

func expBuckets(m map[int64]uint64) metrics.ExpBuckets {
	if len(m) == 0 {
		return metrics.ExpBuckets{}
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for i := range m {
		lo, hi = min(lo, i), max(hi, i)
	}
	b := metrics.ExpBuckets{Offset: int32(lo), Counts: make([]uint64, hi-lo+1)}
	for i, c := range m {
		b.Counts[i-lo] = c
	}
	return b
}

func TestExponentialHistogramAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	values := make([]float64, 20000)
	for i := range values {
		values[i] = rng.ExpFloat64() * 0.3
		if i%10 == 0 {
			values[i] = -values[i]
		}
		if i%100 == 0 {
			values[i] = 0
		}
	}
	sorted := slices.Sorted(slices.Values(values))
	for _, scale := range []int32{8, 5, 3} {
		iv := only(t, aggregate(t, metrics.Config{}, pointRecord(expHistogram(values, scale), t0, "")))
		// The documented bound: half a bucket (geometrically) plus the sketch's 1%.
		bound := (1+metrics.RelativeAccuracy)*math.Exp2(math.Exp2(-float64(scale+1))) - 1
		for _, q := range []float64{0.05, 0.5, 0.9, 0.99} {
			want, got := exactQuantile(sorted, q), iv.Quantile(q)
			if math.Abs(got-want) > bound*math.Abs(want)+1e-12 {
				t.Errorf("scale %d q%v = %v, want %v ±%.2f%%", scale, q, got, want, 100*bound)
			}
		}
		if iv.Count != float64(len(values)) {
			t.Errorf("scale %d: count %v", scale, iv.Count)
		}
	}
}

func TestCumulativeExponentialHistogramAcrossScales(t *testing.T) {
	// An SDK lowers a cumulative histogram's scale when its range grows: the
	// increase is still what was added.
	first := expHistogram([]float64{1, 2, 3}, 6)
	second := expHistogram([]float64{1, 2, 3, 1000, 5}, 3)
	for _, p := range []*metrics.Point{&first, &second} {
		p.Cumulative, p.Stream, p.Start = true, "e", t0.Add(-10*time.Second)
	}
	iv := only(t, aggregate(t, metrics.Config{}, pointRecord(first, t0, ""), pointRecord(second, t0.Add(time.Second), "")))
	if iv.Count != 5 || iv.Sum != 1011 {
		t.Fatalf("count %v sum %v, want 5 and 1011", iv.Count, iv.Sum)
	}
	if q := iv.Quantile(1); math.Abs(q-1000) > 0.1*1000 {
		t.Fatalf("max quantile %v, want about 1000", q)
	}
}

func TestPointRoundTrip(t *testing.T) {
	points := []metrics.Point{
		{Name: "g", Type: metrics.PointGauge, Value: -1.5e-7, Labels: `{a="1"}`, Stream: "abc"},
		{Name: "s", Unit: "By", Type: metrics.PointSum, Cumulative: true, Monotonic: true, Value: 12, Start: t0},
		explicitHistogram([]float64{1, 2, 30}, []float64{0.5, 10, 20}),
		expHistogram([]float64{-3, 0, 0.001, 7e9}, 4),
	}
	for _, p := range points {
		r := pointRecord(p, t0, "web.1")
		// A sender's attribute named like a point key comes after it and is ignored.
		r.Attrs = append(r.Attrs, drainpipe.Attr{Key: "metric.name", Value: "spoofed"})
		got, err := metrics.ParsePoint(&r)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("round trip\n got %+v\nwant %+v", got, p)
		}
	}
}

func TestInvalidPoints(t *testing.T) {
	h := explicitHistogram([]float64{1, 2}, []float64{1})
	tests := []struct {
		name  string
		p     metrics.Point
		error string
	}{
		{"no name", metrics.Point{Type: metrics.PointGauge}, "no name"},
		{"unknown type", metrics.Point{Name: "x", Type: "summary"}, "not one of"},
		{"NaN value", metrics.Point{Name: "x", Type: metrics.PointGauge, Value: math.NaN()}, "finite"},
		{"counts and bounds", func() metrics.Point { p := h; p.BucketCounts = []uint64{2}; return p }(), "bucket counts for"},
		{"bounds not increasing", func() metrics.Point { p := h; p.Bounds = []float64{3, 1}; p.BucketCounts = []uint64{1, 1, 0}; return p }(), "increasing"},
		{"counts do not add up", func() metrics.Point { p := h; p.Count = 5; return p }(), "add up"},
		{"scale out of range", metrics.Point{Name: "x", Type: metrics.PointExpHistogram, Scale: 21}, "scale"},
		{"buckets beyond float64", metrics.Point{Name: "x", Type: metrics.PointExpHistogram, Count: 1,
			Positive: metrics.ExpBuckets{Offset: 2000, Counts: []uint64{1}}}, "beyond"},
		{"labels too long", metrics.Point{Name: "x", Type: metrics.PointGauge, Labels: strings.Repeat("x", metrics.MaxLabelsBytes+1)}, "bytes"},
		// The bound on log values (2^360) holds for points too: sums stay finite.
		{"huge gauge", metrics.Point{Name: "x", Type: metrics.PointGauge, Value: 1.7e308}, "2^360"},
		{"huge negative sum", metrics.Point{Name: "x", Type: metrics.PointSum, Value: -math.Ldexp(1, 361)}, "2^360"},
		{"huge bound", func() metrics.Point { p := h; p.Bounds = []float64{1e300}; return p }(), "2^360"},
		{"huge histogram sum", func() metrics.Point { p := h; p.Sum = 1e300; return p }(), "2^360"},
		{"huge histogram max", func() metrics.Point { p := h; p.Max, p.HasMax = 1e300, true; return p }(), "2^360"},
		{"huge zero threshold", metrics.Point{Name: "x", Type: metrics.PointExpHistogram, ZeroThreshold: 1e300}, "2^360"},
		{"buckets beyond 2^360", metrics.Point{Name: "x", Type: metrics.PointExpHistogram, Count: 1,
			Positive: metrics.ExpBuckets{Offset: 360, Counts: []uint64{1}}}, "beyond"},
		{"negative buckets beyond 2^360 at scale 3", metrics.Point{Name: "x", Type: metrics.PointExpHistogram, Scale: 3, Count: 1,
			Negative: metrics.ExpBuckets{Offset: 360<<3 - 1, Counts: []uint64{0, 1}}}, "beyond"},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.error) {
			t.Errorf("%s: Validate() = %v, want an error saying %q", tt.name, err, tt.error)
		}
		// A record of the same point (as a stranger might craft one) is refused and
		// counted, never aggregated.
		a := newAggregator(t, metrics.Config{})
		r := drainpipe.Record{App: "app", Time: t0, MsgID: metrics.PointMsgID, Attrs: tt.p.AppendAttrs(nil)}
		if a.AddRecord(r) == nil {
			t.Errorf("%s: AddRecord accepted it", tt.name)
		}
		if ivs := a.Flush(t0.Add(time.Hour)); len(ivs) != 0 {
			t.Errorf("%s: aggregated into %+v", tt.name, ivs)
		}
	}
}

func TestLogLineWithPointMsgIDIsALogLine(t *testing.T) {
	// A syslog sender chooses its MSGID: a line that claims to be a point but has no
	// attributes is read as the log line it is.
	r := drainpipe.Record{App: "app", Time: t0, Source: "app", Dyno: "web.1", MsgID: metrics.PointMsgID, Message: "count#signups=2"}
	iv := only(t, aggregate(t, metrics.Config{}, r))
	if iv.Name != "signups" || iv.Sum != 2 {
		t.Fatalf("interval %+v, want the l2met counter signups=2", iv)
	}
}

func TestLabelsRoundTrip(t *testing.T) {
	attrs := []drainpipe.Attr{{Key: "z", Value: "last"}, {Key: "http.route", Value: `/a,b="c"}`}, {Key: "a=b c", Value: "\x00\n✓"}, {Key: "z", Value: "dup"}}
	s := metrics.FormatLabels(attrs)
	if want := `{a_b_c="\x00\n✓",http.route="/a,b=\"c\"}",z="last"}`; s != want {
		t.Fatalf("FormatLabels = %s, want %s", s, want)
	}
	name, labels := metrics.SplitSeriesName("http.server.duration" + s)
	want := [][2]string{{"a_b_c", "\x00\n✓"}, {"http.route", `/a,b="c"}`}, {"z", "last"}}
	if name != "http.server.duration" || !reflect.DeepEqual(labels, want) {
		t.Fatalf("SplitSeriesName = %q %q, want %q", name, labels, want)
	}
	for _, s := range []string{"plain", "weird{name", "x{a=1}", `x{a="1",}`, "{}", `x{="1"}`} {
		if name, labels := metrics.SplitSeriesName(s); name != s || labels != nil {
			t.Errorf("SplitSeriesName(%q) = %q %q, want it all as a name", s, name, labels)
		}
	}
}

func TestPointSeriesOutputs(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := newAggregator(t, metrics.Config{Registerer: reg})
	for i, route := range []string{"/", "/users"} {
		p := metrics.Point{Name: "http.server.requests", Type: metrics.PointSum, Value: float64(i + 1),
			Labels: metrics.FormatLabels([]drainpipe.Attr{{Key: "http.route", Value: route}, {Key: "app", Value: "clash"}})}
		if err := a.AddRecord(pointRecord(p, t0, "web.1")); err != nil {
			t.Fatal(err)
		}
	}
	ivs := a.Flush(t0.Add(time.Minute)) // the collector shows intervals not yet stale
	want := `
# HELP drainpipe_log_http_server_requests Log metric drainpipe_log_http_server_requests (counter, unit "") over its last closed interval.
# TYPE drainpipe_log_http_server_requests gauge
drainpipe_log_http_server_requests{app="app",http_route="/",otel_app="clash",source="web.1"} 1
drainpipe_log_http_server_requests{app="app",http_route="/users",otel_app="clash",source="web.1"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "drainpipe_log_http_server_requests"); err != nil {
		t.Fatal(err)
	}
	docs, err := metrics.EMF(ivs, metrics.EMFOptions{})
	if err != nil || len(docs) != 2 {
		t.Fatalf("EMF: %d documents, %v", len(docs), err)
	}
	for _, d := range docs {
		s := string(d)
		if !strings.Contains(s, `"Dimensions":[["app","http.route","otel.app","source"]]`) || !strings.Contains(s, `"Name":"http.server.requests"`) {
			t.Errorf("EMF document %s: want the attributes as dimensions and the bare metric name", s)
		}
	}
}
