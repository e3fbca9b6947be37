package alert_test

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/alert/alerttest"
	"github.com/drainpipe/drainpipe/metrics"
)

// TestMetricRules: router.service p95 over 2000 ms by dyno, memory_rss over 90% of
// memory_quota, and router.status.5xx over 50 per window, each fires for what
// breaches and resolves when it stops (or its samples stop).
func TestMetricRules(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		svc, _, stop := h.node()
		defer stop()
		h.add(svc, alert.Rule{Name: "slow", App: "myapp", Metric: "router.service", Agg: "p95", Threshold: 2000, GroupBy: []string{"dyno"}, Notify: []string{"test://ops"}})
		h.add(svc, alert.Rule{Name: "mem", App: "myapp", Metric: "memory_rss/memory_quota", Agg: "max", Threshold: 0.9, GroupBy: []string{"source"}, Notify: []string{"test://ops"}})
		h.add(svc, alert.Rule{Name: "5xx", App: "myapp", Metric: "router.status.5xx", Agg: "count", Threshold: 50, Notify: []string{"test://ops"}})
		for m := range 3 {
			at := t0.Add(time.Duration(m) * time.Minute)
			slow := []float64{100, 120, 3000, 3100, 2900, 2800, 3050, 150, 2990, 3010}
			if m == 2 {
				slow = []float64{100, 110}
			}
			h.met.Add(
				alerttest.Interval("myapp", "router.service", "web.1", metrics.Distribution, at, time.Minute, slow...),
				alerttest.Interval("myapp", "router.service", "web.2", metrics.Distribution, at, time.Minute, 90, 95, 100),
				alerttest.Interval("myapp", "memory_rss", "web.1", metrics.Gauge, at, time.Minute, 470, 480),
				alerttest.Interval("myapp", "memory_quota", "web.1", metrics.Gauge, at, time.Minute, 512),
				alerttest.Interval("myapp", "memory_rss", "web.2", metrics.Gauge, at, time.Minute, 200),
				alerttest.Interval("myapp", "memory_quota", "web.2", metrics.Gauge, at, time.Minute, 512),
			)
			// 5xx: 30 per source on two sources: 60 in all, over 50 only merged.
			for _, src := range []string{"web.1", "web.2"} {
				iv := alerttest.Interval("myapp", "router.status.5xx", src, metrics.Counter, at, time.Minute)
				iv.Count, iv.Sum = 30, 30
				h.met.Add(iv)
			}
		}
		sleepUntil(t0.Add(5 * time.Minute))
		byRule := map[string][]string{}
		for _, s := range h.rec.Sent() {
			byRule[s.Rule] = append(byRule[s.Rule], s.Event+" "+s.GroupLabel)
		}
		if got := byRule["slow"]; !slices.Equal(got, []string{"firing source=web.1", "resolved source=web.1"}) {
			t.Errorf("slow: %v", got)
		}
		// web.1's memory stops being reported after the third minute: no sample, resolved.
		if got := byRule["mem"]; !slices.Equal(got, []string{"firing source=web.1", "resolved source=web.1"}) {
			t.Errorf("mem: %v", got)
		}
		if got := byRule["5xx"]; !slices.Equal(got, []string{"firing ", "resolved "}) {
			t.Errorf("5xx: %v", got)
		}
		for _, s := range h.rec.Sent() {
			if s.Rule == "slow" && s.Event == alert.EventFiring {
				if s.Value < 2900 || s.Value > 3100 || !strings.Contains(s.SearchURL, "/ui/metrics?") || !strings.Contains(s.Summary, "p95 of router.service") {
					t.Errorf("slow firing: value %v, url %s, summary %s", s.Value, s.SearchURL, s.Summary)
				}
			}
		}
	})
}

// TestMetricWindowFollowsItsWatermark: a metric rule waits for the metrics history,
// whatever the archive's watermark says.
func TestMetricWindowFollowsItsWatermark(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		h.met.SetMark(func() time.Time { return t0 })
		svc, _, stop := h.node()
		defer stop()
		h.add(svc, alert.Rule{Name: "slow", App: "myapp", Metric: "router.service", Agg: "max", Threshold: 2000, Notify: []string{"test://ops"}})
		h.met.Add(alerttest.Interval("myapp", "router.service", "web.1", metrics.Distribution, t0, time.Minute, 5000))
		sleepUntil(t0.Add(5 * time.Minute))
		if st, _ := svc.Get("slow"); st.Evaluated != 0 || !strings.Contains(st.Waiting, "the metrics") {
			t.Fatalf("evaluated %d windows ahead of the metrics; waiting %q", st.Evaluated, st.Waiting)
		}
		h.met.SetMark(nil)
		sleepUntil(t0.Add(5*time.Minute + 5*time.Second))
		if got := h.events(); !slices.Equal(got, []string{"firing", "resolved"}) {
			t.Errorf("events %v", got)
		}
	})
}

// TestBacktest: `alerts test` over stored lines reports when the rule would have
// fired and resolved, and notifies no one, nor touches the rule's state.
func TestBacktest(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		h.lines("myapp", "router", h12(1), t0.Add(10*time.Minute), 3*time.Minute, 60)
		h.lines("myapp", "router", h12(2), t0.Add(60*time.Minute), 2*time.Minute, 40)
		sleepUntil(t0.Add(3 * time.Hour))
		svc, _, stop := h.node()
		defer stop()
		h.add(svc, alert.Rule{Name: "h12", App: "myapp", Query: "H12", Threshold: 10, For: 2, Notify: []string{"test://ops"}})
		bt, err := svc.Backtest(t.Context(), "h12", t0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range bt.Events {
			got = append(got, e.Event+"@"+e.Window.Start.Sub(t0).String())
		}
		want := []string{"pending@10m0s", "firing@11m0s", "resolved@13m0s", "pending@1h0m0s", "firing@1h1m0s", "resolved@1h2m0s"}
		if !slices.Equal(got, want) || bt.Fired != 2 || bt.Resolved != 2 || len(bt.StillFiring) != 0 {
			t.Errorf("backtest %v (fired %d, resolved %d), want %v", got, bt.Fired, bt.Resolved, want)
		}
		if bt.Windows != 179 || !bt.From.Equal(t0) {
			t.Errorf("%d windows from %v", bt.Windows, bt.From)
		}
		sleepUntil(t0.Add(3*time.Hour + 5*time.Second))
		if got := h.events(); len(got) != 0 {
			t.Errorf("the backtest notified: %v", got)
		}
		if _, err := svc.Backtest(t.Context(), "h12", t0.Add(-30*24*time.Hour)); err == nil {
			t.Error("a backtest over 43,000 windows was not refused")
		}
	})
}
