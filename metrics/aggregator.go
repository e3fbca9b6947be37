package metrics

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drainpipe/drainpipe"
)

// Config configures an Aggregator. The zero value is usable.
type Config struct {
	// Interval is the length of an aggregation interval; default 60 s.
	Interval time.Duration
	// MaxSeriesPerApp caps the series (name, unit, kind, source) one app may have open
	// at once; samples of further series are dropped and counted. Default 1000.
	MaxSeriesPerApp int
	// MaxOpenIntervals caps the intervals one series keeps open at once. A line older
	// than all of them (a replay, a dyno with a skewed clock) closes the oldest early:
	// it comes out of the next Flush, and what arrives for it later comes out as
	// another interval with the same start, to be merged. Default 4.
	MaxOpenIntervals int
	// Stale is how long the Prometheus collector keeps showing a series that has no
	// newer interval (a dyno scaled away); default 5 intervals.
	Stale time.Duration
	// Prefix starts every Prometheus metric name; default "drainpipe_log". See the
	// package documentation for how names map.
	Prefix string
	// Registerer receives the aggregator's collector and its own counters; nil
	// registers nothing.
	Registerer prometheus.Registerer
	// Logger reports series dropped at the cap; nil discards.
	Logger *slog.Logger
	// Retention is how long the history keeps intervals. A record's samples are
	// filed under its own time unless that is more than Retention before, or more
	// than MaxAhead after, when the record was received: then under the received
	// time (the archive's rule), so a dyno with a wrong clock neither makes
	// intervals that no prune removes nor goes missing from recent queries. Default
	// the Retention of the Sink given this aggregator, else 30 days.
	Retention time.Duration
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = time.Minute
	}
	if c.MaxSeriesPerApp <= 0 {
		c.MaxSeriesPerApp = 1000
	}
	if c.MaxOpenIntervals <= 0 {
		c.MaxOpenIntervals = 4
	}
	if c.Stale <= 0 {
		c.Stale = 5 * c.Interval
	}
	if c.Prefix == "" {
		c.Prefix = "drainpipe_log"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Aggregator sums samples per app, series and interval. It is safe for concurrent use.
type Aggregator struct {
	cfg Config

	mu        sync.Mutex
	retention time.Duration // cfg.Retention, or its default
	apps      map[string]*appSeries
	ready     []Interval // closed early by MaxOpenIntervals, for the next Flush
	// lastTime is the time of the latest sample, without its monotonic reading, and
	// lastStart its interval's start: a line's samples share its time, and working the
	// start out again for each of them was a twentieth of a router line's cost.
	lastTime, lastStart time.Time
	// epoch changes whenever lastStart does and at every Flush, so a series' hot
	// bucket from the same epoch is the open interval of lastStart.
	epoch    uint64
	boot     string // this aggregator's part of its buckets' IDs
	buckets  uint64 // buckets opened, for their IDs
	coll     *collector
	failures *prometheus.CounterVec
	dropped  *prometheus.CounterVec
}

type seriesKey struct {
	name, unit, source string
	kind               Kind
}

type appSeries struct {
	name   string
	series map[seriesKey]*series
	cache  seriesCache // emptied whenever series are deleted
	warned bool        // the cap was logged since the last Flush
	// streams are the cumulative OpenTelemetry series, by stream id, whose last
	// point turns the next one into an increase.
	streams map[string]*stream
	dropped prometheus.Counter
	failed  prometheus.Counter
}

type series struct {
	key     seriesKey // the map's own copy, for the cache to check against
	buckets []*bucket // open intervals, few
	// hot is the bucket last used, still open if hotEpoch is the aggregator's epoch.
	hot      *bucket
	hotEpoch uint64
}

type bucket struct {
	start time.Time
	iv    Interval
}

// newBoot returns a random prefix for the IDs of one aggregator's buckets.
func newBoot() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// NewAggregator returns an Aggregator and registers its collector and counters on
// cfg.Registerer.
func NewAggregator(cfg Config) (*Aggregator, error) {
	cfg = cfg.withDefaults()
	a := &Aggregator{
		cfg:       cfg,
		retention: cmp.Or(cfg.Retention, defaultRetention),
		boot:      newBoot(),
		apps:      make(map[string]*appSeries),
		coll:      newCollector(cfg.Prefix),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_metrics_extract_failures_total",
			Help: "Metric fields in log lines that could not be read, and samples refused.",
		}, []string{"app"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_metrics_series_dropped_total",
			Help: "Samples dropped because their app had reached its cap on series.",
		}, []string{"app"}),
	}
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{a.coll, a.failures, a.dropped} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("register metrics: %w", err)
			}
		}
	}
	return a, nil
}

// defaultRetention is the retention of the history when none is set.
const defaultRetention = 30 * 24 * time.Hour

// useRetention makes d the retention when Config.Retention set none.
func (a *Aggregator) useRetention(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cfg.Retention <= 0 && d > 0 {
		a.retention = d
	}
}

// fileTime is the time a record's samples are filed under: its own, unless that
// is more than the retention before or MaxAhead after when it was received (then
// the received time). A record with no received time keeps its own.
func (a *Aggregator) fileTime(t, received time.Time) time.Time {
	if received.IsZero() || !t.Before(received.Add(-a.retention)) && !t.After(received.Add(MaxAhead)) {
		return t
	}
	return received
}

// streamTTL is how long a cumulative series is remembered without a new point.
// Exporters send every minute or so; past an hour, the next point is a new baseline.
const streamTTL = time.Hour

// AddRecord extracts r's samples and adds them under r.App, taking the lock once for
// the whole line. It returns Extract's error, after counting each failed field. A
// record of PointMsgID with attributes is an OpenTelemetry data point, aggregated
// from its attributes (see Point), never from its message.
func (a *Aggregator) AddRecord(r drainpipe.Record) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	as := a.app(r.App)
	r.Time = a.fileTime(r.Time, r.Received)
	if r.MsgID == PointMsgID && len(r.Attrs) > 0 {
		return a.addPointLocked(as, &r)
	}
	err := Extract(r, func(s Sample) { a.addLocked(as, s) })
	if err != nil {
		n := 1
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			n = len(j.Unwrap())
		}
		as.failed.Add(float64(n))
	}
	return err
}

// Add adds s to its series' interval. A sample with no name, an unknown kind, a
// value that is not a number within ±2^360 (see maxValue), or one that would make
// its interval's sum overflow, is refused and counted as a failure.
func (a *Aggregator) Add(app string, s Sample) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.addLocked(a.app(app), s)
}

func (a *Aggregator) addLocked(as *appSeries, s Sample) {
	if s.Name == "" || !s.Kind.valid() || !inBounds(s.Value) {
		as.failed.Inc()
		return
	}
	if sr := a.seriesLocked(as, seriesKey{name: s.Name, unit: s.Unit, source: s.Source, kind: s.Kind}); sr != nil {
		if !a.bucket(as.name, sr, s.Time).add(s) {
			as.failed.Inc()
		}
	}
}

// seriesLocked returns the series of k, making it unless the app is at its cap
// (then it counts the drop and returns nil).
func (a *Aggregator) seriesLocked(as *appSeries, k seriesKey) *series {
	sr, slot := as.cache.get(&k)
	if sr == nil {
		if sr = as.series[k]; sr == nil {
			if len(as.series) >= a.cfg.MaxSeriesPerApp {
				a.drop(as, k)
				return nil
			}
			k = seriesKey{name: clone(k.name), unit: clone(k.unit), source: clone(k.source), kind: k.kind}
			sr = &series{key: k}
			as.series[k] = sr
		}
		as.cache[slot] = sr
	}
	return sr
}

func (a *Aggregator) app(app string) *appSeries {
	as := a.apps[app]
	if as == nil {
		app = clone(app)
		as = &appSeries{
			name:    app,
			series:  make(map[seriesKey]*series),
			dropped: a.dropped.WithLabelValues(app),
			failed:  a.failures.WithLabelValues(app),
		}
		a.apps[app] = as
	}
	return as
}

func (a *Aggregator) drop(as *appSeries, k seriesKey) {
	as.dropped.Inc()
	if !as.warned {
		as.warned = true
		a.cfg.Logger.Warn("metrics: series cap reached; dropping new series",
			"app", as.name, "cap", a.cfg.MaxSeriesPerApp, "series", k.name, "source", k.source)
	}
}

// bucket returns the open interval of sr that t falls in, opening it if need be.
func (a *Aggregator) bucket(app string, sr *series, t time.Time) *bucket {
	start := a.intervalStart(t)
	if sr.hot != nil && sr.hotEpoch == a.epoch {
		return sr.hot
	}
	sr.hot, sr.hotEpoch = a.openBucket(app, sr, start), a.epoch
	return sr.hot
}

// openBucket returns the open interval of sr that starts at start, opening it if need be.
func (a *Aggregator) openBucket(app string, sr *series, start time.Time) *bucket {
	for _, b := range sr.buckets {
		if b.start.Equal(start) {
			return b
		}
	}
	if len(sr.buckets) >= a.cfg.MaxOpenIntervals {
		oldest := slices.MinFunc(sr.buckets, func(x, y *bucket) int { return x.start.Compare(y.start) })
		a.ready = append(a.ready, oldest.closed())
		sr.buckets = slices.DeleteFunc(sr.buckets, func(b *bucket) bool { return b == oldest })
	}
	k := &sr.key
	a.buckets++
	b := &bucket{start: start, iv: Interval{
		App: app, Name: k.name, Source: k.source, Unit: k.unit, Kind: k.kind,
		Start: start.UTC(), Length: a.cfg.Interval, ID: a.boot + "-" + strconv.FormatUint(a.buckets, 36),
	}}
	switch k.kind {
	case Distribution, Gauge:
		b.iv.Sketch = NewSketch()
	case Unique:
		b.iv.Distinct = NewDistinct()
	}
	sr.buckets = append(sr.buckets, b)
	return b
}

// intervalStart returns the start of the interval t falls in. The zero values agree:
// the zero time is the start of its own interval.
func (a *Aggregator) intervalStart(t time.Time) time.Time {
	if t.Equal(a.lastTime) {
		return a.lastStart
	}
	a.lastTime = t.Round(0)
	if start := t.Truncate(a.cfg.Interval); !start.Equal(a.lastStart) {
		a.lastStart = start
		a.epoch++
	}
	return a.lastStart
}

// add adds s to the interval, unless its value would make the sum overflow (or
// the sketch cannot take it): then it changes nothing and returns false.
func (b *bucket) add(s Sample) bool {
	iv := &b.iv
	if iv.Kind == Unique {
		iv.Count++
		iv.Distinct.Add(s.Str)
		return true
	}
	v := s.Value
	sum := iv.Sum + v
	if math.IsInf(sum, 0) {
		return false
	}
	if iv.Sketch != nil && iv.Sketch.Add(v) != nil {
		return false
	}
	if iv.Count == 0 {
		iv.Min, iv.Max = v, v
	} else {
		// The built-ins order -0 below +0 as math.Min and math.Max do, without a call.
		iv.Min, iv.Max = min(iv.Min, v), max(iv.Max, v)
	}
	if iv.Count == 0 || !s.Time.Before(iv.LastAt) {
		iv.Last, iv.LastAt = v, s.Time
	}
	iv.Count++
	iv.Sum = sum
	return true
}

// closed returns the finished interval; the distinct count is worked out only now,
// since a HyperLogLog estimate reads all its registers.
func (b *bucket) closed() Interval {
	if b.iv.Distinct != nil {
		b.iv.Sum = b.iv.Distinct.Estimate()
	}
	return b.iv
}

// Flush returns the intervals that have ended by now, and those closed early, sorted
// by app, name, source and start. The Prometheus collector shows them from then on.
func (a *Aggregator) Flush(now time.Time) []Interval {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.ready
	a.ready = nil
	a.epoch++ // buckets are deleted below: no hot bucket stays valid
	for _, as := range a.apps {
		as.warned = false
		clear(as.cache[:])
		as.forgetStreams(now.Add(-streamTTL))
		for k, sr := range as.series {
			sr.buckets = slices.DeleteFunc(sr.buckets, func(b *bucket) bool {
				if b.start.Add(a.cfg.Interval).After(now) {
					return false
				}
				out = append(out, b.closed())
				return true
			})
			if len(sr.buckets) == 0 {
				delete(as.series, k)
			}
		}
	}
	slices.SortFunc(out, compareIntervals)
	a.coll.update(out, now, a.cfg.Stale)
	return out
}

func compareIntervals(x, y Interval) int {
	return cmp.Or(cmp.Compare(x.App, y.App), cmp.Compare(x.Name, y.Name), cmp.Compare(x.Source, y.Source),
		cmp.Compare(x.Unit, y.Unit), cmp.Compare(x.Kind, y.Kind), x.Start.Compare(y.Start))
}

// clone copies s so that a long-lived key does not pin the log line it came from.
func clone(s string) string { return strings.Clone(s) }
