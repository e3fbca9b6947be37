package ui

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe/metrics"
)

// chartData is what the metrics page draws: a shared time axis and panels of
// series on it, in sections (router, dynos, add-ons, the app's own metrics).
type chartData struct {
	// From and To bound the window, unix seconds.
	From int64 `json:"from"`
	To   int64 `json:"to"`
	// Step is each point's width in seconds.
	Step float64 `json:"step"`
	// Times are the steps' starts, unix seconds: the x of every series.
	Times  []int64 `json:"times"`
	Panels []panel `json:"panels"`
	// Omitted counts the series not drawn (over the page's caps).
	Omitted int `json:"omitted"`
}

type panel struct {
	Section string `json:"section"`
	Title   string `json:"title"`
	// Name is the metric behind a panel of one metric, for the page's links.
	Name string `json:"name,omitempty"`
	// Names are every metric the panel draws.
	Names []string `json:"-"`
	Unit  string   `json:"unit"`
	// Small panels are drawn smaller, several to a row.
	Small  bool          `json:"small,omitempty"`
	Series []panelSeries `json:"series"`
}

type panelSeries struct {
	Label string `json:"label"`
	// Values has one value per step; null where the series had no samples
	// (a counter's steps without any are 0).
	Values []*float64 `json:"values"`
	// Dash draws the series as a limit (a dyno's memory quota).
	Dash bool `json:"dash,omitempty"`
	// Join draws a line across steps without samples: a gauge keeps its value
	// between samples.
	Join bool `json:"join,omitempty"`
}

const (
	maxPanels          = 80
	maxSeriesPerPanel  = 16
	sectionRouter      = "Router"
	sectionDynos       = "Dynos"
	sectionAddons      = "Add-ons"
	sectionApp         = "App metrics (l2met)"
	sectionOtherRouter = "Router, more"
)

// addonSource matches the sources of add-on samples: Heroku names an add-on by
// its config var, DATABASE or HEROKU_POSTGRESQL_RED, in capitals.
var addonSource = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// niceSteps are the steps a graph may take, so its points fall on round times.
var niceSteps = []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second,
	30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// chartStep picks a step that gives about 150 points over span, never shorter
// than the aggregation interval and a whole number of intervals.
func chartStep(span, interval time.Duration) time.Duration {
	interval = max(interval, time.Second)
	raw := max(span/150, interval)
	for _, s := range niceSteps {
		if s >= raw && s%interval == 0 {
			return s
		}
	}
	return (raw + interval - 1) / interval * interval
}

// buildCharts lays out an app's series: merged holds every series with its sources
// merged, each every series per source.
func buildCharts(since time.Time, step time.Duration, n int, merged, each []metrics.RangeSeries) chartData {
	cd := chartData{From: since.Unix(), To: since.Add(time.Duration(n) * step).Unix(), Step: step.Seconds()}
	for i := range n {
		cd.Times = append(cd.Times, since.Add(time.Duration(i)*step).Unix())
	}
	b := chartBuilder{cd: &cd, since: since, step: step, n: n, used: map[string]bool{}}
	b.router(merged)
	b.dynos(merged, each)
	b.rest(merged, each)
	sortPanels(cd.Panels)
	return cd
}

type chartBuilder struct {
	cd    *chartData
	since time.Time
	step  time.Duration
	n     int
	// used holds the names already drawn by a dedicated panel.
	used map[string]bool
}

// values lays a series' points on the time axis, with f picking the number.
func (b *chartBuilder) values(rs metrics.RangeSeries, f func(metrics.RangePoint) float64) []*float64 {
	out := make([]*float64, b.n)
	for _, p := range rs.Points {
		i := int(p.Time.Sub(b.since) / b.step)
		if i >= 0 && i < b.n {
			v := f(p)
			out[i] = &v
		}
	}
	return out
}

func (b *chartBuilder) add(p panel) {
	if len(p.Series) == 0 {
		return
	}
	if len(b.cd.Panels) >= maxPanels {
		b.cd.Omitted += len(p.Series)
		return
	}
	if len(p.Series) > maxSeriesPerPanel {
		b.cd.Omitted += len(p.Series) - maxSeriesPerPanel
		p.Series = p.Series[:maxSeriesPerPanel]
	}
	b.cd.Panels = append(b.cd.Panels, p)
}

func find(list []metrics.RangeSeries, name string) (metrics.RangeSeries, bool) {
	for _, rs := range list {
		if rs.Name == name {
			return rs, true
		}
	}
	return metrics.RangeSeries{}, false
}

// counts lays a counter on the time axis: its sum per second (per is 1) or per
// minute (60) over each step; a step without any counted 0.
func (b *chartBuilder) counts(rs metrics.RangeSeries, per float64) []*float64 {
	out := b.values(rs, func(p metrics.RangePoint) float64 { return p.Sum * per / b.step.Seconds() })
	for i := range out {
		if out[i] == nil {
			out[i] = new(float64)
		}
	}
	return out
}

func (b *chartBuilder) router(merged []metrics.RangeSeries) {
	if rs, ok := find(merged, "router.requests"); ok {
		b.used[rs.Name] = true
		b.add(panel{Section: sectionRouter, Title: "Requests", Unit: "req/s", Names: []string{rs.Name}, Series: []panelSeries{{Label: "requests/s", Values: b.counts(rs, 1)}}})
	}
	p := panel{Section: sectionRouter, Title: "Responses by status class", Unit: "req/s"}
	for _, class := range []string{"1xx", "2xx", "3xx", "4xx", "5xx"} {
		if rs, ok := find(merged, "router.status."+class); ok {
			b.used[rs.Name] = true
			p.Names = append(p.Names, rs.Name)
			p.Series = append(p.Series, panelSeries{Label: class, Values: b.counts(rs, 1)})
		}
	}
	b.add(p)
	if rs, ok := find(merged, "router.service"); ok {
		b.used[rs.Name] = true
		b.add(panel{Section: sectionRouter, Title: "Service time, all dynos", Unit: unitOr(rs.Unit, "ms"), Names: []string{rs.Name}, Series: []panelSeries{
			{Label: "p50", Values: b.values(rs, func(p metrics.RangePoint) float64 { return p.P50 })},
			{Label: "p95", Values: b.values(rs, func(p metrics.RangePoint) float64 { return p.P95 })},
			{Label: "p99", Values: b.values(rs, func(p metrics.RangePoint) float64 { return p.P99 })},
		}})
	}
	b.codes(merged, "router.errors.", "Router errors (H codes)")
}

// codes draws the counters named prefix+CODE in one panel, per minute.
func (b *chartBuilder) codes(merged []metrics.RangeSeries, prefix, title string) {
	section := sectionRouter
	if prefix == "dyno.errors." {
		section = sectionDynos
	}
	p := panel{Section: section, Title: title, Unit: "per min"}
	for _, rs := range merged {
		if code, ok := strings.CutPrefix(rs.Name, prefix); ok && rs.Kind == metrics.Counter.String() {
			b.used[rs.Name] = true
			p.Names = append(p.Names, rs.Name)
			p.Series = append(p.Series, panelSeries{Label: code, Values: b.counts(rs, 60)})
		}
	}
	b.add(p)
}

func (b *chartBuilder) dynos(merged, each []metrics.RangeSeries) {
	p := panel{Section: sectionDynos, Title: "Memory (RSS) against quota", Unit: "MB", Names: []string{"memory_rss", "memory_quota"}}
	var quota []*float64
	for _, rs := range each {
		switch {
		case rs.Name == "memory_rss" && !addonSource.MatchString(rs.Source):
			p.Series = append(p.Series, panelSeries{Label: rs.Source, Values: b.values(rs, maxOf), Join: true})
		case rs.Name == "memory_quota" && !addonSource.MatchString(rs.Source):
			quota = highest(quota, b.values(rs, maxOf))
		}
	}
	if len(p.Series) > 0 {
		b.used["memory_rss"] = true
		if quota != nil {
			b.used["memory_quota"] = true
			p.Series = append(p.Series, panelSeries{Label: "quota", Values: quota, Dash: true, Join: true})
		}
		p.Unit = unitOf(each, "memory_rss", "MB")
	}
	b.add(p)
	p = panel{Section: sectionDynos, Title: "Load average (1 min)", Unit: "load", Names: []string{"load_avg_1m"}}
	for _, rs := range each {
		if rs.Name == "load_avg_1m" && !addonSource.MatchString(rs.Source) {
			b.used[rs.Name] = true
			p.Series = append(p.Series, panelSeries{Label: rs.Source, Values: b.values(rs, maxOf), Join: true})
		}
	}
	b.add(p)
	b.codes(merged, "dyno.errors.", "Dyno errors (R codes)")
}

func maxOf(p metrics.RangePoint) float64 { return p.Max }

// highest keeps, step by step, the higher of two lines (the quota of the largest dyno).
func highest(a, b []*float64) []*float64 {
	if a == nil {
		return b
	}
	for i := range a {
		if a[i] == nil || (b[i] != nil && *b[i] > *a[i]) {
			a[i] = b[i]
		}
	}
	return a
}

func unitOf(list []metrics.RangeSeries, name, def string) string {
	for _, rs := range list {
		if rs.Name == name && rs.Unit != "" {
			return rs.Unit
		}
	}
	return def
}

func unitOr(u, def string) string {
	if u == "" {
		return def
	}
	return u
}

// rest gives every series not drawn yet a small panel of its own: distributions
// and counters over all sources, gauges per source (each add-on in its section).
func (b *chartBuilder) rest(merged, each []metrics.RangeSeries) {
	for _, rs := range merged {
		if b.used[rs.Name] || rs.Kind == metrics.Gauge.String() {
			continue
		}
		p := panel{Section: sectionFor(rs.Name, ""), Title: rs.Name, Name: rs.Name, Names: []string{rs.Name}, Unit: rs.Unit, Small: true}
		switch rs.Kind {
		case metrics.Distribution.String():
			p.Series = []panelSeries{
				{Label: "p50", Values: b.values(rs, func(p metrics.RangePoint) float64 { return p.P50 })},
				{Label: "p95", Values: b.values(rs, func(p metrics.RangePoint) float64 { return p.P95 })},
				{Label: "p99", Values: b.values(rs, func(p metrics.RangePoint) float64 { return p.P99 })},
			}
		case metrics.Counter.String():
			p.Unit = strings.TrimSpace(rs.Unit + " per min")
			p.Series = []panelSeries{{Label: "per min", Values: b.counts(rs, 60)}}
		case metrics.Unique.String():
			p.Unit = "distinct"
			p.Series = []panelSeries{{Label: "distinct", Values: b.values(rs, func(p metrics.RangePoint) float64 { return p.Sum })}}
		}
		b.add(p)
	}
	b.gauges(each)
}

// gauges draws each gauge not drawn yet, per source; an add-on's gauges are
// titled with the add-on.
func (b *chartBuilder) gauges(each []metrics.RangeSeries) {
	type key struct{ name, addon string }
	panels := map[key]*panel{}
	var order []key
	for _, rs := range each {
		if rs.Kind != metrics.Gauge.String() || (b.used[rs.Name] && !addonSource.MatchString(rs.Source)) {
			continue
		}
		k := key{name: rs.Name}
		if addonSource.MatchString(rs.Source) {
			k.addon = rs.Source
		}
		p := panels[k]
		if p == nil {
			title := rs.Name
			if k.addon != "" {
				title = k.addon + " " + rs.Name
			}
			p = &panel{Section: sectionFor(rs.Name, k.addon), Title: title, Name: rs.Name, Names: []string{rs.Name}, Unit: rs.Unit, Small: true}
			panels[k] = p
			order = append(order, k)
		}
		p.Series = append(p.Series, panelSeries{Label: cmp.Or(rs.Source, "(none)"), Values: b.values(rs, maxOf), Join: true})
	}
	slices.SortStableFunc(order, func(a, c key) int { return cmp.Or(cmp.Compare(a.addon, c.addon), cmp.Compare(a.name, c.name)) })
	for _, k := range order {
		b.add(*panels[k])
	}
}

func sectionFor(name, addon string) string {
	switch {
	case addon != "":
		return sectionAddons
	case strings.HasPrefix(name, "router."):
		return sectionOtherRouter
	case strings.HasPrefix(name, "memory_"), strings.HasPrefix(name, "load_avg_"), strings.HasPrefix(name, "dyno."), name == "logplex.dropped":
		return sectionDynos
	}
	return sectionApp
}

// only keeps the panels that draw metric name (either side of a ratio such as
// memory_rss/memory_quota), and of a panel per source, the source's line: what an
// alert's link asks for. An empty name keeps everything.
func (cd *chartData) only(name, source string) {
	if name == "" {
		return
	}
	names := strings.Split(name, "/")
	var keep []panel
	for _, p := range cd.Panels {
		if !slices.ContainsFunc(p.Names, func(n string) bool { return slices.Contains(names, n) }) {
			continue
		}
		if source != "" {
			var series []panelSeries
			for _, s := range p.Series {
				if s.Label == source || s.Dash {
					series = append(series, s)
				}
			}
			if len(series) > 0 {
				p.Series = series
			}
		}
		p.Small = false
		keep = append(keep, p)
	}
	cd.Panels = keep
}

// sectionOrder is the order of the page's sections.
var sectionOrder = []string{sectionRouter, sectionDynos, sectionAddons, sectionApp, sectionOtherRouter}

// sortPanels puts the panels in section order, keeping their order within one.
func sortPanels(ps []panel) {
	slices.SortStableFunc(ps, func(a, b panel) int {
		return cmp.Compare(slices.Index(sectionOrder, a.Section), slices.Index(sectionOrder, b.Section))
	})
}
