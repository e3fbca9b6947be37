package alertseries_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/metrics"
	"github.com/drainpipe/drainpipe/metrics/alertseries"
)

const slack = 5 * time.Second

// TestSource: a metric rule reads the series the sink saved, and the watermark
// says up to when the history holds every line received: held back by lines given
// to the sink and not yet saved, or waiting in the journal; never going back.
func TestSource(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 10, 5, 0, 0, time.UTC)
	store, err := metrics.OpenStore(ctx, metrics.StoreConfig{Path: filepath.Join(t.TempDir(), "metrics.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	agg, err := metrics.NewAggregator(metrics.Config{Interval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	sink := metrics.NewSink(metrics.SinkConfig{Aggregator: agg, Store: store, Interval: time.Minute})
	lag := time.Duration(0)
	src := alertseries.New(alertseries.Config{Store: store, Sink: sink, Slack: slack, Now: func() time.Time { return now },
		Lag: func(context.Context) (time.Duration, error) { return lag, nil }})
	watermark := func(want time.Time, why string) {
		t.Helper()
		if w, err := src.Watermark(ctx); err != nil || !w.Equal(want) {
			t.Errorf("%s: watermark %v, %v; want %v", why, w, err, want)
		}
	}
	watermark(time.Time{}, "nothing saved yet")

	received := now.Add(-2 * time.Minute)
	rec := drainpipe.Record{App: "shop", Source: "heroku", Dyno: "router", Time: received, Received: received,
		Message: "at=info method=GET path=/ host=x dyno=web.1 connect=1ms service=20ms status=200 bytes=10"}
	batch := drainpipe.Batch{App: "shop", Received: received, Records: []drainpipe.Record{rec}}
	if err := sink.Write(ctx, []drainpipe.Entry{{Seq: 1, Batches: []drainpipe.Batch{batch}}}); err != nil {
		t.Fatal(err)
	}
	watermark(time.Time{}, "a line given to the sink, not saved")

	if err := sink.Close(ctx); err != nil { // saves every interval, the open one too
		t.Fatal(err)
	}
	lag = 30 * time.Second
	watermark(received.Add(-slack), "saved, with more waiting in the journal")
	lag = 0
	watermark(now.Add(-slack), "saved, nothing waiting")
	lag = 30 * time.Second
	watermark(now.Add(-slack), "more waiting again: it does not go back")

	ivs, err := src.Series(ctx, "shop", "router.service", received.Add(-time.Minute), now)
	if err != nil || len(ivs) != 1 || ivs[0].Count != 1 || ivs[0].Source != "web.1" {
		t.Errorf("Series = %+v, %v; want the one request of web.1", ivs, err)
	}
}

// history is a metrics.History of one node that counts its messages.
type history struct{ seq atomic.Uint64 }

func (h *history) Claim(_ context.Context, part int) (metrics.Claim, error) {
	return metrics.Claim{Part: part, Fence: h.seq.Load()}, nil
}

func (h *history) Publish(_ context.Context, c metrics.Claim, through metrics.Position, _ []metrics.Interval) (metrics.Claim, error) {
	return metrics.Claim{Part: c.Part, Through: through, Fence: h.seq.Add(1), Token: c.Token}, nil
}

// TestSourceWaitsForTheReplica: in a cluster the sink publishes to a History that
// the store replicates; the watermark moves only once the store has applied the
// publish's last message.
func TestSourceWaitsForTheReplica(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 10, 5, 0, 0, time.UTC)
	store, err := metrics.OpenStore(ctx, metrics.StoreConfig{Path: filepath.Join(t.TempDir(), "metrics.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	agg, err := metrics.NewAggregator(metrics.Config{Interval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	h := &history{}
	sink := metrics.NewSink(metrics.SinkConfig{Aggregator: agg, Interval: time.Minute, History: h, PublishEvery: 10 * time.Millisecond})
	src := alertseries.New(alertseries.Config{Store: store, Sink: sink, Slack: slack, Now: func() time.Time { return now },
		Lag: func(context.Context) (time.Duration, error) { return 0, nil }})
	if err := sink.Claim(ctx, 0); err != nil {
		t.Fatal(err)
	}
	received := now.Add(-2 * time.Minute)
	rec := drainpipe.Record{App: "shop", Source: "app", Dyno: "web.1", Time: received, Received: received, Message: "count#orders=1"}
	batch := drainpipe.Batch{App: "shop", Received: received, Records: []drainpipe.Record{rec}}
	if err := sink.Part(0).Write(ctx, []drainpipe.Entry{{Journal: "j", Seq: 1, Batches: []drainpipe.Batch{batch}}}); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { sink.Run(rctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for p, _ := sink.Progress(); p.Seq == 0; p, _ = sink.Progress() {
		if time.Now().After(deadline) {
			t.Fatal("the sink never published")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	p, _ := sink.Progress()
	if w, err := src.Watermark(ctx); err != nil || !w.IsZero() {
		t.Errorf("published, not applied by the store: watermark %v, %v; want none", w, err)
	}
	if err := store.Apply(ctx, "log", p.Seq, nil); err != nil {
		t.Fatal(err)
	}
	if w, err := src.Watermark(ctx); err != nil || !w.Equal(now.Add(-slack)) {
		t.Errorf("applied: watermark %v, %v; want %v", w, err, now.Add(-slack))
	}
}
