package metrics

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe"
)

// PointMsgID is the MsgID of a record that carries one OpenTelemetry metric data
// point (see Point), so that it travels through the journal with the same
// guarantees as a log line and every sink sees it; the aggregator reads its
// attributes instead of its message.
const PointMsgID = "otlp.metric"

// PointType is the kind of OpenTelemetry metric a data point belongs to.
type PointType string

// The OpenTelemetry metric types drainpipe aggregates.
const (
	// PointGauge is a gauge's point: a value.
	PointGauge PointType = "gauge"
	// PointSum is a sum's point: a value, delta or cumulative, monotonic or not.
	PointSum PointType = "sum"
	// PointHistogram is an explicit-bucket histogram's point.
	PointHistogram PointType = "histogram"
	// PointExpHistogram is an exponential (base-2) histogram's point.
	PointExpHistogram PointType = "exponential_histogram"
)

// Limits on what one data point may hold, so a sender cannot make a series cost
// more than a few kilobytes: OpenTelemetry SDKs send at most 160 exponential
// buckets a side and a few dozen explicit bounds.
const (
	// MaxPointBuckets bounds a histogram point's buckets (a side, for exponential ones).
	MaxPointBuckets = 4096
	// MaxLabelsBytes bounds a point's attributes as rendered in its series name.
	MaxLabelsBytes = 1024
)

// Point is one OpenTelemetry metric data point, as journaled: a record whose MsgID is
// PointMsgID and whose Attrs hold these fields under the "metric." keys below,
// followed by the point's own attributes and the resource's. The record's Time is
// the point's time, its Dyno the series' source.
type Point struct {
	// Name and Unit are the metric's (the unit in UCUM, as sent: "ms", "By", "1").
	Name, Unit string
	Type       PointType
	// Cumulative is the aggregation temporality of sums and histograms: values since
	// Start (true) or since the previous point (false).
	Cumulative bool
	// Monotonic is set for sums that only grow (counters).
	Monotonic bool
	// Labels are the point's attributes, rendered "{k=\"v\",...}" with keys sorted;
	// "" for none. With Name they name the series.
	Labels string
	// Stream identifies the point's time series across requests (resource, scope,
	// metric and attributes), for turning cumulative values into deltas.
	Stream string
	// Start is when a cumulative series began counting (zero when not sent).
	Start time.Time
	// Value is a gauge's or a sum's value.
	Value float64
	// Count, Sum, Min and Max summarise a histogram; Sum, Min and Max only when the
	// Has flags say the sender gave them.
	Count                  uint64
	Sum, Min, Max          float64
	HasSum, HasMin, HasMax bool
	Bounds                 []float64 // explicit histogram bounds, increasing
	BucketCounts           []uint64  // len(Bounds)+1 counts, or none
	Scale                  int32     // exponential histogram: base 2^(2^-Scale)
	ZeroCount              uint64
	ZeroThreshold          float64
	Positive, Negative     ExpBuckets
}

// ExpBuckets are one side of an exponential histogram: Counts[i] is the number of
// values in (base^(Offset+i), base^(Offset+i+1)].
type ExpBuckets struct {
	Offset int32
	Counts []uint64
}

// The attribute keys of a point record.
const (
	keyName          = "metric.name"
	keyUnit          = "metric.unit"
	keyType          = "metric.type"
	keyTemporality   = "metric.temporality"
	keyMonotonic     = "metric.monotonic"
	keyLabels        = "metric.labels"
	keyStream        = "metric.stream"
	keyStart         = "metric.start"
	keyValue         = "metric.value"
	keyCount         = "metric.count"
	keySum           = "metric.sum"
	keyMin           = "metric.min"
	keyMax           = "metric.max"
	keyBounds        = "metric.bounds"
	keyBucketCounts  = "metric.bucket_counts"
	keyScale         = "metric.scale"
	keyZeroCount     = "metric.zero_count"
	keyZeroThreshold = "metric.zero_threshold"
	keyPositive      = "metric.positive"
	keyNegative      = "metric.negative"
)

// IsPointKey reports whether key is one of the keys a point record's values use, so
// that a sender's attribute of the same name can be kept under another.
func IsPointKey(key string) bool {
	switch key {
	case keyName, keyUnit, keyType, keyTemporality, keyMonotonic, keyLabels, keyStream, keyStart, keyValue,
		keyCount, keySum, keyMin, keyMax, keyBounds, keyBucketCounts, keyScale, keyZeroCount, keyZeroThreshold,
		keyPositive, keyNegative:
		return true
	}
	return false
}

// Errors of Validate and ParsePoint.
var (
	// ErrNotPoint means the record is not of PointMsgID, or carries no attributes.
	ErrNotPoint = errors.New("record is not a metric data point")
	// ErrBadPoint means the point's fields do not parse or do not hold together.
	ErrBadPoint = errors.New("invalid metric data point")
)

// Validate checks what the aggregator relies on; a point it refuses is rejected
// with the sender told why.
func (p *Point) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: metric %q: %s", ErrBadPoint, p.Name, fmt.Sprintf(format, a...))
	}
	switch {
	case p.Name == "":
		return bad("no name")
	case len(p.Labels) > MaxLabelsBytes:
		return bad("attributes take %d bytes as a series name, at most %d", len(p.Labels), MaxLabelsBytes)
	}
	switch p.Type {
	case PointGauge, PointSum:
		if !inBounds(p.Value) {
			return bad("value %g is not a finite number within ±2^360", p.Value)
		}
	case PointHistogram:
		return p.validateHistogram(bad)
	case PointExpHistogram:
		return p.validateExpHistogram(bad)
	default:
		return bad("type %q is not one of gauge, sum, histogram, exponential_histogram", p.Type)
	}
	return nil
}

func (p *Point) validateHistogram(bad func(string, ...any) error) error {
	if len(p.Bounds) > MaxPointBuckets {
		return bad("%d bounds, at most %d", len(p.Bounds), MaxPointBuckets)
	}
	if len(p.BucketCounts) != 0 && len(p.BucketCounts) != len(p.Bounds)+1 {
		return bad("%d bucket counts for %d bounds, want %d", len(p.BucketCounts), len(p.Bounds), len(p.Bounds)+1)
	}
	for i, b := range p.Bounds {
		if !inBounds(b) || i > 0 && b <= p.Bounds[i-1] {
			return bad("bounds must be within ±2^360 and increasing")
		}
	}
	if n, ok := sumCounts(p.BucketCounts); len(p.BucketCounts) > 0 && (!ok || n != p.Count) {
		return bad("bucket counts do not add up to the count %d", p.Count)
	}
	return p.validateSummary(bad)
}

func (p *Point) validateExpHistogram(bad func(string, ...any) error) error {
	if p.Scale < -10 || p.Scale > 20 {
		return bad("scale %d out of [-10, 20]", p.Scale)
	}
	if len(p.Positive.Counts) > MaxPointBuckets || len(p.Negative.Counts) > MaxPointBuckets {
		return bad("more than %d buckets a side", MaxPointBuckets)
	}
	if !inBounds(p.ZeroThreshold) || p.ZeroThreshold < 0 {
		return bad("zero threshold must be within 2^360 and not negative")
	}
	for _, side := range []ExpBuckets{p.Positive, p.Negative} {
		lo, hi := expIndexLimit(p.Scale, minNormalExp), expIndexLimit(p.Scale, maxValueExp)
		if int64(side.Offset) < -lo || int64(side.Offset)+int64(len(side.Counts)) > hi {
			return bad("bucket indexes beyond [-%d, %d), buckets within 2^±%d and 2^%d at scale %d",
				lo, hi, minNormalExp, maxValueExp, p.Scale)
		}
	}
	n, ok := sumCounts([]uint64{p.ZeroCount}, p.Positive.Counts, p.Negative.Counts)
	if !ok || n != p.Count {
		return bad("bucket counts do not add up to the count %d", p.Count)
	}
	return p.validateSummary(bad)
}

func (p *Point) validateSummary(bad func(string, ...any) error) error {
	for _, v := range []struct {
		has bool
		v   float64
	}{{p.HasSum, p.Sum}, {p.HasMin, p.Min}, {p.HasMax, p.Max}} {
		if v.has && !inBounds(v.v) {
			return bad("sum, min and max must be within ±2^360")
		}
	}
	if p.HasMin && p.HasMax && p.Min > p.Max {
		return bad("min %g above max %g", p.Min, p.Max)
	}
	return nil
}

// sumCounts adds counts; ok is false when the total overflows.
func sumCounts(lists ...[]uint64) (n uint64, ok bool) {
	for _, l := range lists {
		for _, c := range l {
			if n+c < n {
				return 0, false
			}
			n += c
		}
	}
	return n, true
}

// The exponents of 2 that bound an exponential histogram's buckets: down to the
// smallest normal float64, up to maxValue.
const (
	minNormalExp = 1022
	maxValueExp  = 360
)

// expIndexLimit is the bucket index at scale whose lower bound is 2^exp:
// base^index = 2^(index·2^-scale). Buckets from -expIndexLimit(scale, minNormalExp)
// to below expIndexLimit(scale, maxValueExp) hold normal numbers within maxValue.
func expIndexLimit(scale int32, exp int64) int64 {
	if scale >= 0 {
		return exp << scale
	}
	return exp >> -scale
}

// SeriesName is the name of the point's series: its metric name, then its labels.
func (p *Point) SeriesName() string { return p.Name + p.Labels }

// AppendAttrs appends the point's fields as a record's attributes.
func (p *Point) AppendAttrs(dst []drainpipe.Attr) []drainpipe.Attr {
	add := func(k, v string) { dst = append(dst, drainpipe.Attr{Key: k, Value: v}) }
	add(keyName, p.Name)
	add(keyType, string(p.Type))
	if p.Unit != "" {
		add(keyUnit, p.Unit)
	}
	if p.Type != PointGauge {
		add(keyTemporality, map[bool]string{true: "cumulative", false: "delta"}[p.Cumulative])
	}
	if p.Type == PointSum {
		add(keyMonotonic, strconv.FormatBool(p.Monotonic))
	}
	if p.Labels != "" {
		add(keyLabels, p.Labels)
	}
	if p.Stream != "" {
		add(keyStream, p.Stream)
	}
	if !p.Start.IsZero() {
		add(keyStart, strconv.FormatInt(p.Start.UnixNano(), 10))
	}
	switch p.Type {
	case PointGauge, PointSum:
		add(keyValue, formatFloat(p.Value))
		return dst
	}
	add(keyCount, strconv.FormatUint(p.Count, 10))
	for _, f := range []struct {
		has bool
		k   string
		v   float64
	}{{p.HasSum, keySum, p.Sum}, {p.HasMin, keyMin, p.Min}, {p.HasMax, keyMax, p.Max}} {
		if f.has {
			add(f.k, formatFloat(f.v))
		}
	}
	if p.Type == PointHistogram {
		add(keyBounds, joinFloats(p.Bounds))
		add(keyBucketCounts, joinUints(p.BucketCounts))
		return dst
	}
	add(keyScale, strconv.Itoa(int(p.Scale)))
	add(keyZeroCount, strconv.FormatUint(p.ZeroCount, 10))
	if p.ZeroThreshold != 0 {
		add(keyZeroThreshold, formatFloat(p.ZeroThreshold))
	}
	add(keyPositive, strconv.Itoa(int(p.Positive.Offset))+":"+joinUints(p.Positive.Counts))
	add(keyNegative, strconv.Itoa(int(p.Negative.Offset))+":"+joinUints(p.Negative.Counts))
	return dst
}

// Summary is a one-line text of the point, the message of its record:
// `http.server.duration{http.route="/"} histogram count=12 sum=3.4 unit=s`.
func (p *Point) Summary() string {
	var b strings.Builder
	b.WriteString(p.SeriesName())
	b.WriteByte(' ')
	b.WriteString(string(p.Type))
	switch p.Type {
	case PointGauge, PointSum:
		b.WriteString(" value=" + formatFloat(p.Value))
	default:
		b.WriteString(" count=" + strconv.FormatUint(p.Count, 10))
		if p.HasSum {
			b.WriteString(" sum=" + formatFloat(p.Sum))
		}
		if p.HasMin {
			b.WriteString(" min=" + formatFloat(p.Min))
		}
		if p.HasMax {
			b.WriteString(" max=" + formatFloat(p.Max))
		}
	}
	if p.Unit != "" {
		b.WriteString(" unit=" + strconv.Quote(p.Unit))
	}
	if p.Type != PointGauge && p.Cumulative {
		b.WriteString(" cumulative")
	}
	return b.String()
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func joinFloats(vs []float64) string {
	b := make([]byte, 0, 8*len(vs))
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return string(b)
}

func joinUints(vs []uint64) string {
	b := make([]byte, 0, 4*len(vs))
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, v, 10)
	}
	return string(b)
}
