package otlp_test

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/metrics"
	"github.com/drainpipe/drainpipe/otlp"
)

func TestMetricRecords(t *testing.T) {
	body, err := os.ReadFile("testdata/spec-metrics.json")
	if err != nil {
		t.Fatal(err)
	}
	md, err := otlp.DecodeMetrics(body, otlp.JSON)
	if err != nil {
		t.Fatal(err)
	}
	m := otlp.MetricRecords(md, testDrain, received)
	if m.Rejected != 0 || len(m.Records) != 4 {
		t.Fatalf("%d records, %d rejected (%s)", len(m.Records), m.Rejected, m.Reason)
	}
	at := time.Unix(0, 1544712660300000000).UTC()
	want := []struct {
		message string
		point   metrics.Point
	}{
		{`my.counter{my.counter.attr="some value"} sum value=5 unit="1" cumulative`,
			metrics.Point{Name: "my.counter", Unit: "1", Type: metrics.PointSum, Cumulative: true, Monotonic: true, Value: 5,
				Labels: `{my.counter.attr="some value"}`, Start: at}},
		{`my.gauge gauge value=10 unit="1"`, metrics.Point{Name: "my.gauge", Unit: "1", Type: metrics.PointGauge, Value: 10}},
		{`my.histogram histogram count=2 sum=2 min=0 max=2 unit="ms"`,
			metrics.Point{Name: "my.histogram", Unit: "ms", Type: metrics.PointHistogram, Start: at, Count: 2, Sum: 2, HasSum: true,
				Min: 0, HasMin: true, Max: 2, HasMax: true, Bounds: []float64{1}, BucketCounts: []uint64{1, 1}}},
		{`my.exponential.histogram exponential_histogram count=3 sum=10 min=0 max=5 unit="s"`,
			metrics.Point{Name: "my.exponential.histogram", Unit: "s", Type: metrics.PointExpHistogram, Start: at, Count: 3, Sum: 10,
				HasSum: true, HasMin: true, Max: 5, HasMax: true, ZeroCount: 1, Positive: metrics.ExpBuckets{Offset: 1, Counts: []uint64{0, 2}}}},
	}
	streams := map[string]bool{}
	for i, r := range m.Records {
		if r.MsgID != metrics.PointMsgID || r.Dyno != "web.1" || r.Source != "app" || r.App != "myapp" || !r.Time.Equal(at) || r.Message != want[i].message {
			t.Errorf("record %d: %+v", i, r)
		}
		p, err := metrics.ParsePoint(&r)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		streams[p.Stream] = true
		p.Stream = ""
		if !reflect.DeepEqual(p, want[i].point) {
			t.Errorf("point %d\n got %+v\nwant %+v", i, p, want[i].point)
		}
		if attr(r, "otel.scope.name") != "my.library" || attr(r, "service.name") != "" {
			t.Errorf("record %d: scope kept, and service.name (the app's name) left out? %+v", i, r.Attrs)
		}
	}
	if len(streams) != 4 {
		t.Errorf("%d distinct streams for 4 series", len(streams))
	}
	if r := m.Records[0]; attr(r, "my.counter.attr") != "some value" {
		t.Errorf("the point's attribute is not a field of its record: %+v", r.Attrs)
	}
}

// gaugeRequest is a request of one gauge point per dyno.
func gaugeRequest(name string, dynos ...string) pmetric.Metrics {
	md := pmetric.NewMetrics()
	for _, d := range dynos {
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("heroku.dyno", d)
		g := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		g.SetName(name)
		dp := g.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetDoubleValue(1)
		dp.SetTimestamp(pcommon.NewTimestampFromTime(sent))
		dp.Attributes().PutStr("metric.value", "a sender's attribute named like a point key")
	}
	return md
}

func TestMetricStreamsAreStable(t *testing.T) {
	first := otlp.MetricRecords(gaugeRequest("mem", "web.1", "web.2"), testDrain, received).Records
	again := otlp.MetricRecords(gaugeRequest("mem", "web.1"), testDrain, received.Add(time.Minute)).Records
	stream := func(r drainpipe.Record) string { return attr(r, "metric.stream") }
	if stream(first[0]) != stream(again[0]) || stream(first[0]) == stream(first[1]) {
		t.Fatalf("streams %q %q %q: want one per series, the same in every request", stream(first[0]), stream(first[1]), stream(again[0]))
	}
	r := first[0]
	if attr(r, "metric.value") != "1" || attr(r, "attr.metric.value") != "a sender's attribute named like a point key" {
		t.Fatalf("a sender's attribute must not shadow the point's value: %+v", r.Attrs)
	}
}

func TestMetricPointsRefusedOrSkipped(t *testing.T) {
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	add := func(name string) pmetric.Metric { m := ms.AppendEmpty(); m.SetName(name); return m }

	stale := add("stale").SetEmptyGauge().DataPoints().AppendEmpty() // a staleness marker: skipped
	stale.SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
	unspecified := add("unspecified").SetEmptySum() // no temporality: refused
	unspecified.DataPoints().AppendEmpty().SetIntValue(1)
	unspecified.DataPoints().AppendEmpty().SetIntValue(2)
	add("").SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1) // no name: refused
	h := add("hist").SetEmptyHistogram()
	h.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	hp := h.DataPoints().AppendEmpty()
	hp.SetCount(3)
	hp.BucketCounts().FromRaw([]uint64{1, 1}) // adds up to 2, not 3: refused
	hp.ExplicitBounds().FromRaw([]float64{10})
	add("ok").SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(7)

	m := otlp.MetricRecords(md, testDrain, received)
	if len(m.Records) != 1 || attr(m.Records[0], "metric.name") != "ok" {
		t.Fatalf("records %+v, want only ok", m.Records)
	}
	if m.Rejected != 4 || !strings.Contains(m.Reason, "unspecified") {
		t.Fatalf("rejected %d (%s), want 4, first for the unspecified temporality", m.Rejected, m.Reason)
	}
	if !m.Records[0].Time.Equal(received) {
		t.Fatalf("a point without a time is at %v, want the time it was received", m.Records[0].Time)
	}
}

// attr returns the value of r's attribute key, or "".
func attr(r drainpipe.Record, key string) string {
	for _, a := range r.Attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

// TestMetricNameCannotForgeLabels: a metric named like a series with labels
// (`spoof{app="victim"}`) is one name, its characters that would read as labels
// replaced, not a series of another app or dyno.
func TestMetricNameCannotForgeLabels(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{`spoof{app="victim",source="web.9"}`, `spoof_app__victim__source__web.9__`},
		{`a b{c}`, `a_b_c_`},
		{`router.service`, `router.service`},
	} {
		m := otlp.MetricRecords(gaugeRequest(tc.name, "web.1"), testDrain, received)
		if len(m.Records) != 1 {
			t.Fatalf("%s: %d records (%s)", tc.name, len(m.Records), m.Reason)
		}
		p, err := metrics.ParsePoint(&m.Records[0])
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != tc.want {
			t.Errorf("%s: name %q, want %q", tc.name, p.Name, tc.want)
		}
		// The point's one attribute (gaugeRequest's) is its only label.
		if name, labels := metrics.SplitSeriesName(p.Name + p.Labels); name != tc.want || len(labels) != 1 || labels[0][0] != "metric.value" {
			t.Errorf("%s: the series reads as %q with labels %v", tc.name, name, labels)
		}
	}
}
