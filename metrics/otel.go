package metrics

import (
	"strings"
	"time"

	"github.com/drainpipe/drainpipe"
)

// addPointLocked aggregates the OpenTelemetry data point r carries: a gauge as a
// Gauge sample; a delta sum as a Counter, a cumulative monotonic sum as a Counter of
// its increase since the series' previous point, a cumulative non-monotonic sum
// (an up-down counter's level) as a Gauge; a histogram of either kind as a
// Distribution of its buckets (see histogram.go). The series is the metric's name
// with its attributes, its source the record's dyno.
func (a *Aggregator) addPointLocked(as *appSeries, r *drainpipe.Record) error {
	p, err := ParsePoint(r)
	if err != nil {
		as.failed.Inc()
		return err
	}
	k := seriesKey{name: p.SeriesName(), unit: otelUnit(p.Unit), source: r.Dyno}
	switch {
	case p.Type == PointGauge || p.Type == PointSum && p.Cumulative && !p.Monotonic:
		k.kind = Gauge
		a.addLocked(as, Sample{Name: k.name, Unit: k.unit, Source: k.source, Kind: Gauge, Value: p.Value, Time: r.Time})
	case p.Type == PointSum:
		v := p.Value
		if p.Cumulative {
			var ok bool
			if v, ok = a.sumIncrease(as, &p, r.Time); !ok {
				return nil
			}
		}
		a.addLocked(as, Sample{Name: k.name, Unit: k.unit, Source: k.source, Kind: Counter, Value: v, Time: r.Time})
	default:
		if p.Cumulative {
			var ok bool
			if p, ok = a.histogramIncrease(as, &p, r.Time); !ok {
				return nil
			}
		}
		k.kind = Distribution
		if sr := a.seriesLocked(as, k); sr != nil {
			if err := a.bucket(as.name, sr, r.Time).addHistogram(&p, r.Time); err != nil {
				as.failed.Inc()
				return err
			}
		}
	}
	return nil
}

// stream is what the aggregator remembers of a cumulative series: its last point.
type stream struct {
	last Point
	// at is the last point's time.
	at time.Time
}

// streamFor returns the remembered stream of p and whether it was there; a new
// one when it was not and the app has room (a stream is about a series, so the cap
// is a multiple of the series cap), else nil.
func (a *Aggregator) streamFor(as *appSeries, p *Point) (*stream, bool) {
	key := p.Stream
	if key == "" {
		key = p.SeriesName()
	}
	if st := as.streams[key]; st != nil {
		return st, true
	}
	if len(as.streams) >= 2*a.cfg.MaxSeriesPerApp {
		a.drop(as, seriesKey{name: p.SeriesName()})
		return nil, false
	}
	if as.streams == nil {
		as.streams = make(map[string]*stream)
	}
	st := &stream{}
	as.streams[strings.Clone(key)] = st
	return st, false
}

// remember keeps p as the stream's last point, without its strings: they point
// into the journal message the record was read from, which they would pin.
func (st *stream) remember(p *Point, t time.Time) {
	st.last, st.at = *p, t
	st.last.Name, st.last.Unit, st.last.Labels, st.last.Stream = "", "", "", ""
}

// freshStart reports whether a cumulative series seen for the first time started
// recently enough (within two intervals of its point) that its whole value is news.
// Otherwise it began before drainpipe was listening (or before a restart) and its
// first point is only the baseline of the next.
func (a *Aggregator) freshStart(p *Point, t time.Time) bool {
	return !p.Start.IsZero() && !p.Start.After(t) && t.Sub(p.Start) <= 2*a.cfg.Interval
}

// sumIncrease turns a cumulative sum into the increase since the stream's previous
// point. ok is false when there is nothing to add: the first point of a series
// that started long ago, a repeat of a point already seen (an exporter's retry), or
// one older than it.
func (a *Aggregator) sumIncrease(as *appSeries, p *Point, t time.Time) (float64, bool) {
	st, known := a.streamFor(as, p)
	if st == nil || known && !t.After(st.at) {
		return 0, false
	}
	prev := st.last
	st.remember(p, t)
	switch {
	case !known:
		return p.Value, a.freshStart(p, t)
	case p.Value < prev.Value || !p.Start.Equal(prev.Start):
		return p.Value, true // the counter restarted: all of it is new
	}
	return p.Value - prev.Value, true
}

// histogramIncrease turns a cumulative histogram into the histogram of the values
// recorded since the stream's previous point, with the same rules as sumIncrease.
// The increase has no min and max: the sender's are over the whole series.
func (a *Aggregator) histogramIncrease(as *appSeries, p *Point, t time.Time) (Point, bool) {
	st, known := a.streamFor(as, p)
	if st == nil {
		return Point{}, false
	}
	if known && !t.After(st.at) {
		return Point{}, false
	}
	prev := st.last
	st.remember(p, t)
	if !known {
		return *p, a.freshStart(p, t)
	}
	if !p.Start.Equal(prev.Start) || p.Count < prev.Count {
		return *p, true
	}
	d, ok := subtractHistogram(p, &prev)
	if !ok {
		return *p, true // buckets went down or changed shape: a restart
	}
	return d, true
}

// forgetStreams drops the streams with no point since before, so series that
// stopped (a dyno scaled away) do not hold memory.
func (as *appSeries) forgetStreams(before time.Time) {
	for k, st := range as.streams {
		if st.at.Before(before) {
			delete(as.streams, k)
		}
	}
}

// otelUnit turns a UCUM unit as OpenTelemetry sends it into the short units the
// rest of drainpipe uses: annotations ("{request}") and the dimensionless "1" go,
// bytes are "bytes", "kB", "MB", ...; other units ("ms", "s", "%") are kept.
func otelUnit(u string) string {
	for {
		i := strings.IndexByte(u, '{')
		j := strings.IndexByte(u, '}')
		if i < 0 || j < i {
			break
		}
		u = u[:i] + u[j+1:]
	}
	switch u {
	case "1":
		return ""
	case "By":
		return "bytes"
	case "kBy", "KBy":
		return "kB"
	case "MBy":
		return "MB"
	case "GBy":
		return "GB"
	case "TBy":
		return "TB"
	}
	return u
}
