package archive_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/prometheus/client_golang/prometheus"
)

// TestWritesSettleTogether: a Write's rows are searchable and counted when it
// returns, durable (Durable, the journal's acknowledgement) within SettleEvery,
// and Close makes durable what waits, so a redelivery after a restart is skipped.
func TestWritesSettleTogether(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, err := archive.Open(context.Background(), archive.Config{Dir: dir, PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	e := func(seq uint64) drainpipe.Entry { return entry(seq, seqLines("app", received, 10)...) }
	start := time.Now()
	write(t, a, e(1))
	write(t, a, e(2))
	if got := a.Durable(testJournal); got != 0 && time.Since(start) < archive.SettleEvery {
		t.Errorf("Durable = %d right after the writes, want 0 until the barrier is due", got)
	}
	if n := countRows(t, a, "app"); n != 20 {
		t.Errorf("%d rows searchable after the writes, want 20", n)
	}
	if st, err := a.Stats(context.Background(), "app"); err != nil || st.Lines != 20 {
		t.Errorf("Stats = %+v, %v after the writes; want 20 lines", st, err)
	}
	waitDurable(t, a, 2)
	write(t, a, e(3))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	reg := prometheus.NewRegistry()
	b := open(t, archive.Config{Dir: dir, Registerer: reg})
	if got := b.Durable(testJournal); got != 3 {
		t.Errorf("after Close and Open, Durable = %d, want 3: Close makes staged rows durable", got)
	}
	write(t, b, e(3), e(4))
	if got := metricValue(t, reg, "drainpipe_archive_entries_skipped_total"); got != 1 {
		t.Errorf("entries_skipped_total = %v, want 1 (entry 3 again)", got)
	}
	if n := countRows(t, b, "app"); n != 40 {
		t.Errorf("%d rows stored, want 40", n)
	}
	if st, err := b.Stats(context.Background(), "app"); err != nil || st.Lines != 40 {
		t.Errorf("Stats = %+v, %v; want 40 lines", st, err)
	}
}

// TestSearchDuringSettle: searches running while Writes of new streams (new
// apps, on two days) are settled always see every row the Writes added: the
// barrier never takes a day away from readers.
func TestSearchDuringSettle(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	yesterday := received.Add(-24 * time.Hour)
	var written atomic.Int32 // apps whose rows were added
	stop := make(chan struct{})
	misses := make(chan string, 1)
	go func() {
		defer close(misses)
		for {
			select {
			case <-stop:
				return
			default:
			}
			n := int(written.Load())
			if n == 0 {
				continue
			}
			app := "app" + string(rune('a'+n-1))
			if got, err := rowCount(a, app); err != nil || got != 40 {
				misses <- fmt.Sprintf("a search found %d rows of %s (%v), want 40", got, app, err)
				return
			}
		}
	}()
	for round := range 6 {
		app := "app" + string(rune('a'+round))
		recs := append(seqLines(app, yesterday, 20), seqLines(app, received, 20)...)
		write(t, a, entry(uint64(round+1), recs...))
		written.Store(int32(round + 1))
		waitDurable(t, a, uint64(round+1))
	}
	close(stop)
	if m, ok := <-misses; ok {
		t.Fatal(m)
	}
}
