package metrics

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// collector shows the last closed interval of every series to Prometheus.
type collector struct {
	prefix string
	hidden *prometheus.Desc

	mu   sync.Mutex
	last map[lastKey]Interval
}

var _ prometheus.Collector = (*collector)(nil)

type lastKey struct {
	app string
	seriesKey
}

func newCollector(prefix string) *collector {
	return &collector{
		prefix: sanitizeName(prefix),
		hidden: prometheus.NewDesc("drainpipe_metrics_hidden_series",
			"Series not exposed because their sanitised name or labels collided with another's.", nil, nil),
		last: make(map[lastKey]Interval),
	}
}

// update keeps the newest interval of each series (merging a late one with the same
// start) and forgets series with nothing newer than stale.
func (c *collector) update(ivs []Interval, now time.Time, stale time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, iv := range ivs {
		k := lastKey{iv.App, seriesKey{iv.Name, iv.Unit, iv.Source, iv.Kind}}
		old, ok := c.last[k]
		switch {
		case !ok || old.Start.Before(iv.Start):
			c.last[k] = iv
		case old.Start.Equal(iv.Start):
			if old.Merge(iv) == nil {
				c.last[k] = old
			}
		}
	}
	for k, iv := range c.last {
		if !iv.Start.Add(iv.Length + stale).After(now) {
			delete(c.last, k)
		}
	}
}

// Describe sends nothing: the series come and go with the logs, so the collector is
// unchecked.
func (c *collector) Describe(chan<- *prometheus.Desc) {}

// Collect sends the gauges of every series' last interval.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := exposition{owners: make(map[string]string), seen: make(map[string]bool), ch: ch}
	// In a fixed order, so that of two series that clash the same one is shown at
	// every scrape.
	keys := make([]lastKey, 0, len(c.last))
	for k := range c.last {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y lastKey) int {
		return cmp.Or(cmp.Compare(x.app, y.app), cmp.Compare(x.name, y.name), cmp.Compare(x.unit, y.unit),
			cmp.Compare(x.source, y.source), cmp.Compare(x.kind, y.kind))
	})
	for _, k := range keys {
		c.collectInterval(&e, c.last[k])
	}
	ch <- prometheus.MustNewConstMetric(c.hidden, prometheus.GaugeValue, float64(e.hidden))
}

// exposition tracks what one Collect has sent, to keep families consistent.
type exposition struct {
	owners map[string]string // family name → the series identity that owns it
	seen   map[string]bool   // family + label values already sent
	hidden int
	ch     chan<- prometheus.Metric
}

func (c *collector) collectInterval(e *exposition, iv Interval) {
	metric, extra := SplitSeriesName(iv.Name)
	base := c.prefix + "_" + sanitizeName(metric)
	if iv.Kind == Unique {
		base += "_distinct"
	} else if u := unitSuffix(iv.Unit); u != "" {
		base += "_" + u
	}
	// Names that differ only in what sanitising replaces (load-avg-1m from an add-on,
	// load_avg_1m from a dyno) share a family; a different kind or unit cannot, nor
	// a series whose family only happens to have the name (sample#workers_max and
	// the _max of sample#workers): a family has one help text, made of base, kind
	// and unit, and one set of label names.
	names, values := seriesLabels(labelValue(iv.App), labelValue(iv.Source), extra)
	owner := fmt.Sprintf("%s\x00%s\x00%s\x00%s", base, iv.Unit, iv.Kind, strings.Join(names, ","))
	type gauge struct {
		suffix, quantile string
		v                float64
	}
	var gauges []gauge
	switch iv.Kind {
	case Counter, Unique:
		gauges = []gauge{{"", "", iv.Sum}}
	default:
		gauges = []gauge{
			{"", "0.5", iv.Quantile(0.5)}, {"", "0.95", iv.Quantile(0.95)}, {"", "0.99", iv.Quantile(0.99)},
			{"_count", "", iv.Count}, {"_sum", "", iv.Sum}, {"_min", "", iv.Min}, {"_max", "", iv.Max}, {"_last", "", iv.Last},
		}
	}
	// A series is shown whole or not at all.
	ids := make([]string, len(gauges))
	for i, g := range gauges {
		name := base + g.suffix
		ids[i] = name + "\x00" + strings.Join(values, "\x00") + "\x00" + g.quantile
		if o, ok := e.owners[name]; ok && o != owner || e.seen[ids[i]] {
			e.hidden++
			return
		}
	}
	help := fmt.Sprintf("Log metric %s (%s, unit %q) over its last closed interval.", base, iv.Kind, iv.Unit)
	for i, g := range gauges {
		name := base + g.suffix
		e.owners[name] = owner
		e.seen[ids[i]] = true
		labels, vals := names, values
		if g.quantile != "" {
			labels, vals = append(slices.Clip(labels), "quantile"), append(slices.Clip(vals), g.quantile)
		}
		e.ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(name, help, labels, nil), prometheus.GaugeValue, g.v, vals...)
	}
}

// seriesLabels are the label names and values of a series: app, source, and the
// attributes of an OpenTelemetry series, their names made valid (an attribute
// that would clash with app, source, quantile or a reserved "__" name is prefixed
// "otel_"; of two that sanitise alike, the first is kept).
func seriesLabels(app, source string, extra [][2]string) (names, values []string) {
	names, values = []string{"app", "source"}, []string{app, source}
	for _, kv := range extra {
		n := sanitizeName(kv[0])
		n = strings.ReplaceAll(n, ":", "_")
		if n == "app" || n == "source" || n == "quantile" || strings.HasPrefix(n, "__") {
			n = "otel_" + n
		}
		if slices.Contains(names, n) {
			continue
		}
		names, values = append(names, n), append(values, labelValue(kv[1]))
	}
	return names, values
}

// sanitizeName maps s to Prometheus' [a-zA-Z_:][a-zA-Z0-9_:]*: every other byte,
// '.' and '-' included, becomes '_'.
func sanitizeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || c >= '0' && c <= '9' && i > 0) {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// unitSuffix is the unit as a name part: lower case, '%' spelled "percent".
func unitSuffix(u string) string {
	if u == "" {
		return ""
	}
	return sanitizeName(strings.ToLower(strings.ReplaceAll(u, "%", "percent")))
}

// labelValue makes s valid UTF-8, as Prometheus requires of label values.
func labelValue(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
