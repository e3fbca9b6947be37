package ui

import (
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/metrics"
)

func TestChartStep(t *testing.T) {
	for _, tc := range []struct {
		span, interval, want time.Duration
	}{
		{15 * time.Minute, time.Minute, time.Minute},
		{time.Hour, time.Minute, time.Minute},
		{time.Hour, time.Second, 30 * time.Second},
		{24 * time.Hour, time.Minute, 10 * time.Minute},
		{7 * 24 * time.Hour, time.Minute, 2 * time.Hour},
		{time.Hour, 7 * time.Second, 28 * time.Second},
		{time.Minute, 0, time.Second},
	} {
		if got := chartStep(tc.span, tc.interval); got != tc.want {
			t.Errorf("chartStep(%v, %v) = %v, want %v", tc.span, tc.interval, got, tc.want)
		}
	}
}

// TestBuildCharts lays out one of each kind of series and checks where each
// lands and how its values are read.
func TestBuildCharts(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	step := time.Minute
	pt := func(i int, p metrics.RangePoint) metrics.RangePoint {
		p.Time = t0.Add(time.Duration(i) * step)
		return p
	}
	merged := []metrics.RangeSeries{
		{Name: "router.requests", Kind: "counter", Points: []metrics.RangePoint{pt(0, metrics.RangePoint{Sum: 120}), pt(2, metrics.RangePoint{Sum: 60})}},
		{Name: "router.service", Unit: "ms", Kind: "distribution", Points: []metrics.RangePoint{pt(1, metrics.RangePoint{P50: 10, P95: 90, P99: 200})}},
		{Name: "router.errors.H12", Kind: "counter", Points: []metrics.RangePoint{pt(1, metrics.RangePoint{Sum: 3})}},
		{Name: "db.query", Unit: "ms", Kind: "distribution", Points: []metrics.RangePoint{pt(0, metrics.RangePoint{P95: 7})}},
		{Name: "signups", Kind: "counter", Points: []metrics.RangePoint{pt(0, metrics.RangePoint{Sum: 2})}},
		{Name: "users", Kind: "unique", Points: []metrics.RangePoint{pt(0, metrics.RangePoint{Sum: 40})}},
	}
	each := []metrics.RangeSeries{
		{Name: "memory_rss", Source: "web.1", Unit: "MB", Kind: "gauge", Points: []metrics.RangePoint{pt(0, metrics.RangePoint{Max: 300})}},
		{Name: "memory_quota", Source: "web.1", Unit: "MB", Kind: "gauge", Points: []metrics.RangePoint{pt(0, metrics.RangePoint{Max: 512})}},
		{Name: "memory_rss", Source: "DATABASE", Unit: "MB", Kind: "gauge", Points: []metrics.RangePoint{pt(0, metrics.RangePoint{Max: 9})}},
		{Name: "load_avg_1m", Source: "web.1", Kind: "gauge", Points: []metrics.RangePoint{pt(0, metrics.RangePoint{Max: 0.5})}},
		{Name: "queue.depth", Source: "worker.1", Kind: "gauge", Points: []metrics.RangePoint{pt(1, metrics.RangePoint{Max: 4})}},
	}
	cd := buildCharts(t0, step, 3, merged, each)
	if len(cd.Times) != 3 || cd.Times[2] != t0.Add(2*time.Minute).Unix() {
		t.Fatalf("times %v", cd.Times)
	}
	byTitle := map[string]panel{}
	var order []string
	for _, p := range cd.Panels {
		byTitle[p.Title] = p
		order = append(order, p.Section+": "+p.Title)
	}
	want := []string{
		"Router: Requests", "Router: Service time, all dynos", "Router: Router errors (H codes)",
		"Dynos: Memory (RSS) against quota", "Dynos: Load average (1 min)",
		"Add-ons: DATABASE memory_rss",
		"App metrics (l2met): db.query", "App metrics (l2met): signups", "App metrics (l2met): users", "App metrics (l2met): queue.depth",
	}
	if len(order) != len(want) {
		t.Fatalf("panels %q\nwant %q", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("panels %q\nwant %q", order, want)
		}
	}
	val := func(title string, series, i int) any {
		v := byTitle[title].Series[series].Values[i]
		if v == nil {
			return nil
		}
		return *v
	}
	for _, c := range []struct {
		title     string
		series, i int
		want      any
	}{
		{"Requests", 0, 0, 2.0}, // 120 a minute
		{"Requests", 0, 1, 0.0}, // nothing counted is 0
		{"Router errors (H codes)", 0, 1, 3.0},
		{"Service time, all dynos", 1, 1, 90.0},
		{"Service time, all dynos", 1, 0, nil}, // no samples is no value
		{"Memory (RSS) against quota", 1, 0, 512.0},
		{"signups", 0, 0, 2.0},
		{"users", 0, 0, 40.0},
		{"queue.depth", 0, 1, 4.0},
	} {
		if got := val(c.title, c.series, c.i); got != c.want {
			t.Errorf("%s series %d step %d: %v, want %v", c.title, c.series, c.i, got, c.want)
		}
	}
	if q := byTitle["Memory (RSS) against quota"].Series[1]; q.Label != "quota" || !q.Dash {
		t.Errorf("quota series %+v", q)
	}
}
