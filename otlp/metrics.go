package otlp

import (
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/metrics"
)

// Mapped is what a request's records map to.
type Mapped struct {
	// Records are the records to journal, in the order they were sent.
	Records []drainpipe.Record
	// Rejected counts the records or data points that could not be read; Reason
	// says why the first of them was refused.
	Rejected int64
	Reason   string
	// Foreign counts the records whose resource names another app than the drain's.
	Foreign int
}

func (m *Mapped) reject(err error) {
	if m.Rejected == 0 {
		m.Reason = err.Error()
	}
	m.Rejected++
}

// MetricRecords maps every data point of md to a record of drain d received at
// received (see metrics.Point). Points flagged "no recorded value" carry nothing
// and are skipped; points that cannot be aggregated are rejected.
func MetricRecords(md pmetric.Metrics, d drainpipe.Drain, received time.Time) Mapped {
	m := Mapped{Records: make([]drainpipe.Record, 0, md.DataPointCount())}
	for _, rm := range md.ResourceMetrics().All() {
		o := readResource(rm.Resource(), d.App)
		for _, sm := range rm.ScopeMetrics().All() {
			mc := metricContext{o: &o, scope: sm.Scope(), drain: d, received: received, out: &m,
				resource: identity(rm.Resource().Attributes(), sm.Scope())}
			for _, metric := range sm.Metrics().All() {
				mc.metric(metric)
			}
		}
	}
	return m
}

// metricContext is what the data points of one scope share.
type metricContext struct {
	o        *origin
	scope    pcommon.InstrumentationScope
	drain    drainpipe.Drain
	received time.Time
	resource uint64 // hash of the resource's attributes and the scope
	out      *Mapped
}

// metric maps every data point of one metric.
func (mc *metricContext) metric(metric pmetric.Metric) {
	p := metrics.Point{Name: metric.Name(), Unit: metric.Unit()}
	if p.Name != "" { // a point with no name is refused, saying so
		p.Name = metrics.CleanName(p.Name)
	}
	switch metric.Type() {
	case pmetric.MetricTypeGauge:
		p.Type = metrics.PointGauge
		mc.numbers(p, metric.Gauge().DataPoints())
	case pmetric.MetricTypeSum:
		s := metric.Sum()
		p.Type, p.Monotonic = metrics.PointSum, s.IsMonotonic()
		if mc.temporality(&p, s.AggregationTemporality(), s.DataPoints().Len()) {
			mc.numbers(p, s.DataPoints())
		}
	case pmetric.MetricTypeHistogram:
		h := metric.Histogram()
		p.Type = metrics.PointHistogram
		if mc.temporality(&p, h.AggregationTemporality(), h.DataPoints().Len()) {
			for _, dp := range h.DataPoints().All() {
				mc.histogram(p, dp)
			}
		}
	case pmetric.MetricTypeExponentialHistogram:
		h := metric.ExponentialHistogram()
		p.Type = metrics.PointExpHistogram
		if mc.temporality(&p, h.AggregationTemporality(), h.DataPoints().Len()) {
			for _, dp := range h.DataPoints().All() {
				mc.expHistogram(p, dp)
			}
		}
	case pmetric.MetricTypeSummary:
		for range metric.Summary().DataPoints().All() {
			mc.out.reject(fmt.Errorf("metric %q: summaries are not aggregated (their quantiles do not merge); send a histogram", p.Name))
		}
	}
}

// temporality sets p's; an unspecified one rejects the metric's n points.
func (mc *metricContext) temporality(p *metrics.Point, t pmetric.AggregationTemporality, n int) bool {
	switch t {
	case pmetric.AggregationTemporalityCumulative:
		p.Cumulative = true
	case pmetric.AggregationTemporalityDelta:
	default:
		for range n {
			mc.out.reject(fmt.Errorf("metric %q: aggregation temporality unspecified", p.Name))
		}
		return false
	}
	return true
}

func (mc *metricContext) numbers(p metrics.Point, dps pmetric.NumberDataPointSlice) {
	for _, dp := range dps.All() {
		if dp.Flags().NoRecordedValue() {
			continue
		}
		if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
			p.Value = float64(dp.IntValue())
		} else {
			p.Value = dp.DoubleValue()
		}
		mc.emit(&p, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp())
	}
}

func (mc *metricContext) histogram(p metrics.Point, dp pmetric.HistogramDataPoint) {
	if dp.Flags().NoRecordedValue() {
		return
	}
	p.Count, p.Sum, p.HasSum = dp.Count(), dp.Sum(), dp.HasSum()
	p.Min, p.HasMin, p.Max, p.HasMax = dp.Min(), dp.HasMin(), dp.Max(), dp.HasMax()
	p.Bounds, p.BucketCounts = dp.ExplicitBounds().AsRaw(), dp.BucketCounts().AsRaw()
	mc.emit(&p, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp())
}

func (mc *metricContext) expHistogram(p metrics.Point, dp pmetric.ExponentialHistogramDataPoint) {
	if dp.Flags().NoRecordedValue() {
		return
	}
	p.Count, p.Sum, p.HasSum = dp.Count(), dp.Sum(), dp.HasSum()
	p.Min, p.HasMin, p.Max, p.HasMax = dp.Min(), dp.HasMin(), dp.Max(), dp.HasMax()
	p.Scale, p.ZeroCount, p.ZeroThreshold = dp.Scale(), dp.ZeroCount(), dp.ZeroThreshold()
	p.Positive = metrics.ExpBuckets{Offset: dp.Positive().Offset(), Counts: dp.Positive().BucketCounts().AsRaw()}
	p.Negative = metrics.ExpBuckets{Offset: dp.Negative().Offset(), Counts: dp.Negative().BucketCounts().AsRaw()}
	mc.emit(&p, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp())
}

// emit validates p with its attributes and times, and appends its record.
func (mc *metricContext) emit(p *metrics.Point, attrs pcommon.Map, start, ts pcommon.Timestamp) {
	labels := make([]drainpipe.Attr, 0, attrs.Len())
	for k, v := range attrs.All() {
		labels = append(labels, drainpipe.Attr{Key: k, Value: v.AsString()})
	}
	p.Labels = metrics.FormatLabels(labels)
	p.Start, _ = timeOf(start)
	p.Stream = mc.stream(p)
	if err := p.Validate(); err != nil {
		mc.out.reject(err)
		return
	}
	r := drainpipe.Record{
		Drain: mc.drain.ID, App: mc.drain.App, Received: mc.received, Time: recordTime(ts, 0, mc.received),
		Priority: -1, Source: mc.o.source, Dyno: mc.o.dyno, Host: mc.o.host, MsgID: metrics.PointMsgID,
		Message: p.Summary(),
	}
	f := fields{attrs: p.AppendAttrs(make([]drainpipe.Attr, 0, 12+len(labels)+len(mc.o.rest)))}
	for _, l := range labels {
		f.add(l.Key, l.Value, "attr.")
	}
	addScope(&f, mc.scope)
	for _, a := range mc.o.rest {
		f.add(a.k, a.v, "resource.")
	}
	r.Attrs = f.attrs
	mc.out.Records = append(mc.out.Records, r)
	if mc.o.foreignApp != "" {
		mc.out.Foreign++
	}
}

// stream identifies p's time series: its resource and scope, metric and labels.
func (mc *metricContext) stream(p *metrics.Point) string {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(mc.resource >> (8 * i))
	}
	h.Write(b[:])
	for _, s := range []string{p.Name, p.Unit, string(p.Type), p.Labels} {
		io.WriteString(h, s)
		h.Write([]byte{0})
	}
	return strconv.FormatUint(h.Sum64(), 16)
}

// identity hashes a resource's attributes, in key order, and a scope's name and version.
func identity(attrs pcommon.Map, scope pcommon.InstrumentationScope) uint64 {
	kvs := make([]string, 0, 2*attrs.Len()+2)
	for k, v := range attrs.All() {
		kvs = append(kvs, k+"\x00"+v.AsString())
	}
	slices.Sort(kvs)
	kvs = append(kvs, scope.Name(), scope.Version())
	h := fnv.New64a()
	for _, s := range kvs {
		io.WriteString(h, s)
		h.Write([]byte{0})
	}
	return h.Sum64()
}
