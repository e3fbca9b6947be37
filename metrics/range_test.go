package metrics_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/drainpipe/drainpipe/metrics"
)

// TestStoreRange saves six one-minute intervals of two dynos and reads them back in
// two-minute steps, per source and merged.
func TestStoreRange(t *testing.T) {
	t.Parallel()
	st := openStore(t, metrics.StoreConfig{Path: filepath.Join(t.TempDir(), "metrics.db")})
	ctx := context.Background()
	a := newAggregator(t, metrics.Config{})
	for minute := range 6 {
		for i := range 100 {
			at := t0.Add(time.Duration(minute)*time.Minute + time.Duration(i)*time.Millisecond)
			// web.1 serves in i ms, web.2 in 1000+i ms; minute 3 has no samples of web.2.
			a.Add("app", metrics.Sample{Name: "router.service", Source: "web.1", Unit: "ms", Kind: metrics.Distribution, Value: float64(i), Time: at})
			if minute != 3 {
				a.Add("app", metrics.Sample{Name: "router.service", Source: "web.2", Unit: "ms", Kind: metrics.Distribution, Value: float64(1000 + i), Time: at})
			}
			a.Add("app", metrics.Sample{Name: "router.requests", Source: "web.1", Kind: metrics.Counter, Value: 1, Time: at})
		}
		if err := st.Save(ctx, a.Flush(t0.Add(time.Duration(minute+1)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	q := metrics.RangeQuery{App: "app", Since: t0, Until: t0.Add(6 * time.Minute), Step: 2 * time.Minute, NamePrefix: "router.service"}
	each, err := st.Range(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(each) != 2 || each[0].Source != "web.1" || each[1].Source != "web.2" || each[0].Kind != "distribution" {
		t.Fatalf("per source: %+v", each)
	}
	for i, p := range each[0].Points {
		if !p.Time.Equal(t0.Add(time.Duration(i)*2*time.Minute)) || p.Count != 200 || p.Max != 99 {
			t.Errorf("web.1 point %d: %+v", i, p)
		}
	}
	var counts []float64
	for _, p := range each[1].Points {
		counts = append(counts, p.Count)
	}
	if !slices.Equal(counts, []float64{200, 100, 200}) {
		t.Errorf("web.2 counts per step %v, want 200 100 200 (minute 3 had none)", counts)
	}

	q.MergeSources = true
	merged, err := st.Range(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged) != 1 || merged[0].Source != "" || len(merged[0].Points) != 3 {
		t.Fatalf("merged: %+v", merged)
	}
	p := merged[0].Points[0]
	// Half the values are under 100 ms, half over 1000: the merged p95 is web.2's.
	if p.Count != 400 || p.Min != 0 || p.Max != 1099 || abs(p.P95-1089) > 11 || abs(p.P50-99) > 12 {
		t.Errorf("merged step 0: %+v", p)
	}

	q = metrics.RangeQuery{App: "app", Since: t0.Add(4 * time.Minute), Until: t0.Add(6 * time.Minute), Step: time.Minute, NamePrefix: "router.req", MergeSources: true}
	reqs, err := st.Range(ctx, q)
	if err != nil || len(reqs) != 1 || len(reqs[0].Points) != 2 || reqs[0].Points[1].Sum != 100 || reqs[0].Kind != "counter" {
		t.Errorf("requests in the last two minutes: %+v, %v", reqs, err)
	}

	for _, bad := range []metrics.RangeQuery{
		{App: "app", Since: t0, Until: t0, Step: time.Minute},
		{App: "app", Since: t0, Until: t0.Add(time.Hour), Step: 0},
		{App: "app", Since: t0, Until: t0.Add(1000 * time.Hour), Step: time.Second},
	} {
		if _, err := st.Range(ctx, bad); err == nil {
			t.Errorf("Range(%+v) accepted", bad)
		}
	}
}
