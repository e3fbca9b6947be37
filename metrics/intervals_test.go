package metrics_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/metrics"
)

// TestStoreIntervals: alert rules read one series over a window, per app and source,
// the intervals merged; a late interval with the start of a stored one merges in.
func TestStoreIntervals(t *testing.T) {
	t.Parallel()
	st := openStore(t, metrics.StoreConfig{Path: filepath.Join(t.TempDir(), "metrics.db")})
	ctx := context.Background()
	a := newAggregator(t, metrics.Config{})
	for minute := range 3 {
		for i := range 10 {
			at := t0.Add(time.Duration(minute)*time.Minute + time.Duration(i)*time.Second)
			a.Add("app", metrics.Sample{Name: "router.service", Source: "web.1", Unit: "ms", Kind: metrics.Distribution, Value: float64(100 * (minute + 1)), Time: at})
			a.Add("app", metrics.Sample{Name: "router.service", Source: "web.2", Unit: "ms", Kind: metrics.Distribution, Value: 5, Time: at})
			a.Add("other", metrics.Sample{Name: "router.service", Source: "web.1", Unit: "ms", Kind: metrics.Distribution, Value: 7, Time: at})
			a.Add("app", metrics.Sample{Name: "router.services", Source: "web.1", Kind: metrics.Counter, Value: 1, Time: at})
		}
		if err := st.Save(ctx, a.Flush(t0.Add(time.Duration(minute+1)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	// A late line for minute 0, flushed on its own.
	a.Add("app", metrics.Sample{Name: "router.service", Source: "web.1", Unit: "ms", Kind: metrics.Distribution, Value: 1000, Time: t0.Add(30 * time.Second)})
	if err := st.Save(ctx, a.Flush(t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	got, err := st.Intervals(ctx, "app", "router.service", t0, t0.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Source != "web.1" || got[0].Count != 21 || got[0].Max != 1000 || got[0].App != "app" ||
		got[1].Source != "web.2" || got[1].Count != 20 {
		t.Fatalf("intervals %+v", got)
	}
	all, err := st.Intervals(ctx, "", "router.service", t0.Add(2*time.Minute), t0.Add(3*time.Minute))
	if err != nil || len(all) != 3 {
		t.Fatalf("every app: %+v, %v", all, err)
	}
	apps := map[string]bool{}
	for _, iv := range all {
		apps[iv.App] = true
	}
	if !apps["app"] || !apps["other"] {
		t.Errorf("apps %v", apps)
	}
}

// TestSinkProgress: the sink says up to when the store holds what it was given.
func TestSinkProgress(t *testing.T) {
	t.Parallel()
	st := openStore(t, metrics.StoreConfig{Path: filepath.Join(t.TempDir(), "metrics.db")})
	sink := metrics.NewSink(metrics.SinkConfig{Aggregator: newAggregator(t, metrics.Config{Interval: 50 * time.Millisecond}), Store: st, Interval: 50 * time.Millisecond})
	recv := time.Now().Add(-time.Second).Round(0)
	rec := drainpipe.Record{App: "app", Source: "heroku", Dyno: "router", Time: recv, Received: recv,
		Message: "at=info method=GET path=/ dyno=web.1 connect=1ms service=20ms status=200 bytes=10"}
	if err := sink.Write(context.Background(), []drainpipe.Entry{{Batches: []drainpipe.Batch{{Received: recv, Records: []drainpipe.Record{rec}}}}}); err != nil {
		t.Fatal(err)
	}
	if p, writes := sink.Progress(); !p.Flushed.IsZero() || writes != 1 {
		t.Fatalf("before a flush: %+v, %d writes", p, writes)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sink.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, _ := sink.Progress()
		if p.Writes == 1 && p.Received.Equal(recv) && p.Flushed.After(recv) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("progress %+v", p)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	ivs, err := st.Intervals(context.Background(), "app", "router.service", recv.Add(-time.Minute), recv.Add(time.Minute))
	if err != nil || len(ivs) != 1 || ivs[0].Count != 1 {
		t.Errorf("stored %+v, %v", ivs, err)
	}
}
