package archive_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/prometheus/client_golang/prometheus"
)

func TestStats(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	recs := []drainpipe.Record{
		{App: "app", Time: base.Add(time.Hour), Received: base.Add(time.Minute), Message: "a"},
		{App: "app", Time: base, Received: base.Add(2 * time.Minute), Message: "b", Malformed: true},
		{App: "app", Time: base.Add(30 * time.Minute), Received: base.Add(90 * time.Second), Message: "c"},
		{App: "other", Time: base.Add(5 * time.Hour), Received: base.Add(5 * time.Hour), Message: "d"},
	}
	write(t, a, entry(1, recs...))
	got, err := a.Stats(context.Background(), "app")
	if err != nil {
		t.Fatal(err)
	}
	want := archive.AppStats{Lines: 3, Malformed: 1, First: base, Last: base.Add(time.Hour), LastReceived: base.Add(90 * time.Second)}
	if got != want {
		t.Errorf("Stats = %+v\nwant %+v", got, want)
	}
	if got, err := a.Stats(context.Background(), "nobody"); err != nil || got != (archive.AppStats{}) {
		t.Errorf("Stats(nobody) = %+v, %v; want zero", got, err)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	a := open(t, archive.Config{Registerer: reg})
	write(t, a, entry(1, seqLines("app", received, 10)...), entry(2, seqLines("app", received, 5)...))
	write(t, a, entry(2, seqLines("app", received, 5)...))
	for name, want := range map[string]float64{
		"drainpipe_archive_lines_written_total":    15,
		"drainpipe_archive_entries_skipped_total":  1,
		"drainpipe_archive_write_duration_seconds": 1, // observations: the skipped write committed nothing
		"drainpipe_archive_rows_pruned_total":      0,
	} {
		if got := metricValue(t, reg, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := metricValue(t, reg, "drainpipe_archive_database_size_bytes"); got <= 0 {
		t.Errorf("database_size_bytes = %v, want > 0", got)
	}
	// A second archive on the same registry is refused, not half-registered.
	if _, err := archive.Open(context.Background(), archive.Config{Path: t.TempDir() + "/b.db", Registerer: reg, PruneInterval: -1}); err == nil {
		t.Error("second Open on the same registerer succeeded")
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]archive.Config{
		"no path":        {},
		"missing dir":    {Path: t.TempDir() + "/no/such/dir/archive.db"},
		"not a database": {Path: "testdata/heroku-drain-realistic.lines.txt"},
	} {
		cfg.PruneInterval = -1
		if a, err := archive.Open(context.Background(), cfg); err == nil {
			a.Close()
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

// TestConcurrentReadsDuringWrites searches, tails and counts while a writer
// stores deliveries: readers never fail, and never see a partial delivery.
func TestConcurrentReadsDuringWrites(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	g := newLineGen(7, received)
	const writes, perEntry = 20, 100
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for r := range 3 {
		wg.Go(func() {
			var lastCount int64
			for ctx.Err() == nil {
				st, err := a.Stats(ctx, "busy")
				if err == nil && (st.Lines%(2*perEntry) != 0 || st.Lines < lastCount) {
					err = errors.New("stats saw a partial or shrinking archive")
				}
				lastCount = st.Lines
				if err == nil {
					_, err = a.Search(ctx, archive.Query{App: "busy", Match: "status OR GET", Limit: 50})
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
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st, err := a.Stats(context.Background(), "busy")
	if err != nil || st.Lines != writes*2*perEntry {
		t.Errorf("Stats = %+v, %v; want %d lines", st, err, writes*2*perEntry)
	}
}
