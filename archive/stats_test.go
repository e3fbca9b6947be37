package archive_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/prometheus/client_golang/prometheus"
)

func TestStats(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "archive")
	a := open(t, archive.Config{Dir: dir})
	base := received.Add(-3 * time.Hour)
	recs := []drainpipe.Record{
		{App: "app", Time: base.Add(time.Hour), Received: base.Add(time.Minute), Message: "a"},
		{App: "app", Time: base, Received: base.Add(2 * time.Minute), Message: "b", Malformed: true},
		{App: "app", Time: base.Add(30 * time.Minute), Received: base.Add(90 * time.Second), Message: "c"},
		{App: "app", Time: base, Received: base, Source: "heroku", Dyno: "logplex",
			Message: "Error L10 (output buffer overflow): 3 messages dropped since 2015-06-08T21:47:22+00:00."},
		{App: "other", Time: base.Add(5 * time.Hour), Received: base.Add(5 * time.Hour), Message: "d"},
	}
	e := entry(1, recs...)
	e.Batches[0].App, e.Batches[0].Dropped = "app", 7
	write(t, a, e)
	// Dropped: the batch's loss by herokulog's one rule, the larger of its drop
	// headers (7) and its report lines (3): a sender may report one loss both ways.
	// Last: the newest line's time, but never after it arrived ("a" and "c" are
	// dated after they were received: a clock running fast).
	want := archive.AppStats{Lines: 4, Malformed: 1, Dropped: 7, First: base, Last: base.Add(90 * time.Second), LastReceived: base.Add(2 * time.Minute)}
	got, err := a.Stats(context.Background(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Stats = %+v\nwant %+v", got, want)
	}
	if got, err := a.Stats(context.Background(), "nobody"); err != nil || got != (archive.AppStats{}) {
		t.Errorf("Stats(nobody) = %+v, %v; want zero", got, err)
	}
	a.Close()
	b := open(t, archive.Config{Dir: dir})
	if got, err := b.Stats(context.Background(), "app"); err != nil || got != want {
		t.Errorf("after a restart Stats = %+v, %v\nwant %+v", got, err, want)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	a := open(t, archive.Config{Registerer: reg})
	write(t, a, entry(1, seqLines("app", received, 10)...), entry(2, seqLines("app", received, 5)...))
	write(t, a, entry(2, seqLines("app", received, 5)...))
	if got := metricValue(t, reg, "drainpipe_archive_flush_duration_seconds"); got != 0 {
		t.Errorf("flush_duration_seconds has %v observations before the barrier was due, want 0", got)
	}
	waitDurable(t, a, 2)
	for name, want := range map[string]float64{
		"drainpipe_archive_lines_written_total":    15,
		"drainpipe_archive_entries_skipped_total":  1,
		"drainpipe_archive_write_duration_seconds": 1, // observations: the skipped write stored nothing
		"drainpipe_archive_flush_duration_seconds": 1, // one barrier for both writes
		"drainpipe_archive_barrier_failures_total": 0,
		"drainpipe_archive_rows_pruned_total":      0,
		"drainpipe_archive_rows":                   15,
	} {
		if got := metricValue(t, reg, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := metricValue(t, reg, "drainpipe_archive_disk_bytes"); got <= 0 {
		t.Errorf("disk_bytes = %v, want > 0", got)
	}
	// A second archive on the same registry is refused, not half-registered.
	if _, err := archive.Open(context.Background(), archive.Config{Dir: filepath.Join(t.TempDir(), "b"), Registerer: reg, PruneInterval: -1}); err == nil {
		t.Error("second Open on the same registerer succeeded")
	}
}

// TestConcurrentReadsDuringWrites searches, tails, follows and counts while a
// writer stores deliveries: readers never fail, counts never go back, and a
// follower sees every line once, in order.
func TestConcurrentReadsDuringWrites(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	g := newLineGen(7, received)
	const writes, perEntry = 20, 500
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	followed := make(chan int64, 1)
	wg.Go(func() {
		var last, n int64
		for n < writes*2*perEntry && ctx.Err() == nil {
			lines, err := a.After(ctx, "busy", last, 1000)
			if err != nil {
				errs <- err
				return
			}
			for _, l := range lines {
				if l.ID != last+1 {
					errs <- errors.New("follower saw ids out of order or with a gap")
					return
				}
				last, n = l.ID, n+1
			}
			if len(lines) == 0 {
				wctx, wcancel := context.WithTimeout(ctx, time.Second)
				_ = a.Wait(wctx, last)
				wcancel()
			}
		}
		followed <- n
	})
	for r := range 2 {
		wg.Go(func() {
			var lastCount int64
			for ctx.Err() == nil {
				st, err := a.Stats(ctx, "busy")
				if err == nil && (st.Lines%(2*perEntry) != 0 || st.Lines < lastCount) {
					err = errors.New("stats saw a partial or shrinking archive")
				}
				lastCount = st.Lines
				if err == nil {
					_, err = a.Search(ctx, archive.Query{App: "busy", Match: "status:=200 OR GET", Limit: 50})
				}
				if err == nil && r == 0 {
					_, err = a.Tail(ctx, "busy", 100)
				}
				if err != nil && ctx.Err() == nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range writes {
		if err := a.Write(context.Background(), g.entries("busy", uint64(2*i+1), 2, perEntry)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case n := <-followed:
		if n != writes*2*perEntry {
			t.Errorf("follower saw %d lines, want %d", n, writes*2*perEntry)
		}
	case <-time.After(time.Minute):
		t.Error("follower did not see every line within a minute")
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestStatsFiledTime: a line dated ahead (a dyno with a wrong clock) does
// not make the app's newest line look ahead, hiding whether the drain still
// delivers: a week ahead, it is filed under the time it was received; hours
// ahead, it is filed under its own time but counts as its arrival.
func TestStatsFiledTime(t *testing.T) {
	t.Parallel()
	for _, ahead := range []time.Duration{6 * 24 * time.Hour, 10 * time.Hour} {
		t.Run(ahead.String(), func(t *testing.T) {
			a := open(t, archive.Config{})
			write(t, a, entry(1,
				drainpipe.Record{App: "app", Time: received.Add(-time.Minute), Received: received.Add(-time.Minute), Message: "now"},
				drainpipe.Record{App: "app", Time: received.Add(ahead), Received: received, Message: "ahead"},
			))
			got, err := a.Stats(context.Background(), "app")
			if err != nil || !got.Last.Equal(received) || !got.First.Equal(received.Add(-time.Minute)) {
				t.Errorf("Stats = %+v, %v; want first a minute before %s, last at it", got, err, received)
			}
		})
	}
}
