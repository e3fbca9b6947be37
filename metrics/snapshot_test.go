package metrics_test

import (
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/metrics"
)

// TestSnapshotAndForget: a snapshot copies the open buckets of the apps asked for,
// keeps their IDs (the closed interval later has the same), and does not change
// as samples keep coming; Forget drops an app's open buckets.
func TestSnapshotAndForget(t *testing.T) {
	a, err := metrics.NewAggregator(metrics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	add := func(app string, v float64) {
		a.Add(app, metrics.Sample{Name: "router.service", Unit: "ms", Kind: metrics.Distribution, Value: v, Time: t0.Add(time.Second)})
	}
	add("shop", 10)
	add("blog", 20)
	snap := a.Snapshot(func(app string) bool { return app == "shop" })
	if len(snap) != 1 || snap[0].App != "shop" || snap[0].Count != 1 || snap[0].ID == "" {
		t.Fatalf("snapshot: %+v", snap)
	}
	add("shop", 30)
	if snap[0].Count != 1 || snap[0].Sketch.Count() != 1 {
		t.Fatal("a snapshot changed after it was taken")
	}
	a.Forget(func(app string) bool { return app == "blog" })
	closed := a.Flush(t0.Add(time.Hour))
	if len(closed) != 1 || closed[0].App != "shop" || closed[0].Count != 2 || closed[0].ID != snap[0].ID {
		t.Fatalf("flushed after forgetting blog: %+v", closed)
	}
	add("shop", 40)
	if next := a.Flush(t0.Add(time.Hour)); len(next) != 1 || next[0].ID == snap[0].ID {
		t.Fatalf("a new bucket of the same interval must have a new ID: %+v", next)
	}
}
