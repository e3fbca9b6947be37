package archive_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/prometheus/client_golang/prometheus"
)

// TestPrune keeps what is younger than the retention by received time (not by
// the line's own time), across more lines than one prune chunk.
func TestPrune(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	a := open(t, archive.Config{Retention: time.Hour, Registerer: reg})
	now := received
	old := func(app string, n int, recv time.Time, msg string) []drainpipe.Record {
		recs := make([]drainpipe.Record, n)
		for i := range recs {
			// The line's own time is recent: retention goes by received.
			recs[i] = drainpipe.Record{App: app, Time: now, Received: recv, Message: msg, Malformed: i%2 == 0}
		}
		return recs
	}
	write(t, a,
		entry(1, old("app", 12000, now.Add(-3*time.Hour), "expired line")...),
		entry(2, old("other", 10, now.Add(-2*time.Hour), "expired other")...),
		entry(3, old("app", 7, now.Add(-time.Hour+time.Second), "kept line")...),
	)
	n, err := a.Prune(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if n != 12010 {
		t.Errorf("Prune deleted %d lines, want 12010", n)
	}
	if got := metricValue(t, reg, "drainpipe_archive_rows_pruned_total"); got != 12010 {
		t.Errorf("rows_pruned_total = %v, want 12010", got)
	}
	for _, tt := range []struct {
		app, match string
		want       int
	}{
		{"app", "expired", 0},
		{"app", "", 7},
		{"app", "kept", 7},
		{"other", "", 0},
	} {
		lines, err := a.Search(context.Background(), archive.Query{App: tt.app, Match: tt.match, Limit: 100000})
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != tt.want {
			t.Errorf("Search(%s, %q) found %d lines, want %d", tt.app, tt.match, len(lines), tt.want)
		}
	}
	st, err := a.Stats(context.Background(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines != 7 || st.Malformed != 4 {
		t.Errorf("Stats(app) = %+v, want 7 lines, 4 malformed", st)
	}
	if st, err := a.Stats(context.Background(), "other"); err != nil || st != (archive.AppStats{}) {
		t.Errorf("Stats(other) = %+v, %v; want zero", st, err)
	}
	if n, err := a.Prune(context.Background(), now); err != nil || n != 0 {
		t.Errorf("second Prune = %d, %v; want 0", n, err)
	}
}

func TestPruneKeepForever(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{Retention: -1})
	write(t, a, entry(1, seqLines("app", received, 3)...))
	if n, err := a.Prune(context.Background(), received.AddDate(100, 0, 0)); err != nil || n != 0 {
		t.Errorf("Prune = %d, %v; want 0 with retention off", n, err)
	}
}

// TestPruneLoop checks that Open starts retention on its own: lines already
// expired when the archive opens are removed without anyone calling Prune.
func TestPruneLoop(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "archive.db")
	a := open(t, archive.Config{Path: path})
	write(t, a, entry(1, seqLines("app", time.Now().AddDate(-1, 0, 0), 3)...)) // received long ago
	a.Close()
	b := open(t, archive.Config{Path: path, Retention: time.Hour, PruneInterval: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		st, err := b.Stats(ctx, "app")
		if err != nil {
			t.Fatal(err)
		}
		if st.Lines == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("retention loop did not prune: %+v", st)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// metricValue returns the value of a counter or gauge, or the sample count
// of a histogram, gathered from reg.
func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		if mf.GetName() != name {
			names = append(names, mf.GetName())
			continue
		}
		m := mf.GetMetric()[0]
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("no metric %s in %s", name, strings.Join(names, ", "))
	return 0
}
