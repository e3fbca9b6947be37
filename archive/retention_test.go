package archive_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/prometheus/client_golang/prometheus"
)

// today is midnight UTC of the current day.
var today = time.Now().UTC().Truncate(24 * time.Hour)

// daysAgo returns n lines of app at noon n days ago, received now.
func linesDaysAgo(app string, days, n int) []drainpipe.Record {
	recs := seqLines(app, today.Add(time.Duration(-days)*24*time.Hour+12*time.Hour), n)
	for i := range recs {
		recs[i].Received = received
		recs[i].Malformed = i == 0
	}
	return recs
}

func TestRetentionByAge(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	a := open(t, archive.Config{Retention: 7 * 24 * time.Hour, Registerer: reg})
	// Lines older than the retention when they arrive are kept from the day
	// they arrive, with their own time.
	old := linesDaysAgo("app", 10, 2)
	write(t, a, entry(1, append(linesDaysAgo("app", 5, 3), linesDaysAgo("other", 5, 2)...)...),
		entry(2, linesDaysAgo("app", 2, 4)...), entry(3, linesDaysAgo("app", 0, 5)...), entry(4, old...))
	ctx := context.Background()
	if n, err := a.Prune(ctx, today.Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("Prune today = %d, %v; want nothing deleted", n, err)
	}
	n, err := a.Prune(ctx, today.Add(3*24*time.Hour+time.Hour))
	if err != nil || n != 5 {
		t.Fatalf("Prune 3 days on = %d, %v; want the 5 lines of 5 days ago", n, err)
	}
	st, err := a.Stats(ctx, "app")
	if err != nil || st.Lines != 11 || st.Malformed != 3 || !st.First.Equal(today.Add(-2*24*time.Hour+12*time.Hour)) {
		t.Errorf("Stats = %+v, %v; want 11 lines, 3 malformed, first 2 days ago", st, err)
	}
	if st, _ := a.Stats(ctx, "other"); st.Lines != 0 {
		t.Errorf("other app kept %d lines", st.Lines)
	}
	if n := countRows(t, a, "app"); n != 11 {
		t.Errorf("%d rows left, want 11", n)
	}
	if n, err := a.Prune(ctx, today.Add(6*24*time.Hour+time.Hour)); err != nil || n != 4 {
		t.Errorf("Prune 6 days on = %d, %v; want the 4 lines of 2 days ago", n, err)
	}
	lines, err := a.Search(ctx, archive.Query{App: "app", Match: `"of app"`, Until: today.Add(-9 * 24 * time.Hour)})
	if err != nil || len(lines) != 0 {
		t.Errorf("search by _time found %d lines older than 9 days, %v; want none (they are stamped when received)", len(lines), err)
	}
	tail, err := a.Tail(ctx, "app", 100)
	if err != nil || len(tail) != 7 || !slices.ContainsFunc(tail, func(l archive.Line) bool { return l.Time.Equal(old[1].Time) }) {
		t.Errorf("Tail = %d lines, %v; want 7, among them the old lines with their own time", len(tail), err)
	}
	if got := metricValue(t, reg, "drainpipe_archive_rows_pruned_total"); got != 9 {
		t.Errorf("rows_pruned_total = %v, want 9", got)
	}
	if got := metricValue(t, reg, "drainpipe_archive_days_pruned_total"); got != 2 {
		t.Errorf("days_pruned_total = %v, want 2", got)
	}
}

func TestRetentionForever(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{Retention: -1})
	write(t, a, entry(1, linesDaysAgo("app", 400, 3)...))
	if n, err := a.Prune(context.Background(), today.Add(1000*24*time.Hour)); err != nil || n != 0 {
		t.Errorf("Prune = %d, %v; want nothing deleted", n, err)
	}
	lines, err := a.Tail(context.Background(), "app", 10)
	if err != nil || len(lines) != 3 || !lines[0].Time.Equal(today.Add(-400*24*time.Hour+12*time.Hour)) {
		t.Errorf("Tail = %d lines, %v; want 3 lines 400 days old", len(lines), err)
	}
}

func TestRetentionByDisk(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	a := open(t, archive.Config{MaxBytes: 1, Registerer: reg})
	for d := range 4 {
		write(t, a, entry(uint64(d+1), linesDaysAgo("app", d, 10)...))
	}
	n, err := a.Prune(context.Background(), time.Now())
	if err != nil || n != 20 {
		t.Fatalf("Prune = %d, %v; want the 20 lines of the two oldest days", n, err)
	}
	if st, _ := a.Stats(context.Background(), "app"); st.Lines != 20 {
		t.Errorf("Stats counts %d lines, want 20", st.Lines)
	}
	lines, err := a.Tail(context.Background(), "app", 100)
	if err != nil || len(lines) != 20 || lines[0].Time.Before(today.Add(-24*time.Hour)) {
		t.Errorf("Tail = %d lines from %v, %v; want 20 lines of the newest two days", len(lines), lines[0].Time, err)
	}
	if got := metricValue(t, reg, "drainpipe_archive_days_pruned_total"); got != 2 {
		t.Errorf("days_pruned_total = %v, want 2", got)
	}
}

// TestRetentionInterrupted: a crash after the counts of a day were taken off
// but before its files were deleted is finished by Open.
func TestRetentionInterrupted(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "archive")
	a := open(t, archive.Config{Dir: dir})
	write(t, a, entry(1, linesDaysAgo("app", 3, 4)...), entry(2, linesDaysAgo("app", 0, 5)...))
	a.Close()
	var st map[string]any
	if err := json.Unmarshal(must(os.ReadFile(filepath.Join(dir, "state.json"))), &st); err != nil {
		t.Fatal(err)
	}
	st["dropping"] = []string{today.Add(-3 * 24 * time.Hour).Format("20060102")}
	st["apps"].(map[string]any)["app"].(map[string]any)["lines"] = 5
	mustWrite(t, filepath.Join(dir, "state.json"), string(must(json.Marshal(st))))
	b := open(t, archive.Config{Dir: dir})
	if n := countRows(t, b, "app"); n != 5 {
		t.Errorf("%d rows after the interrupted deletion was finished, want 5", n)
	}
	if st, _ := b.Stats(context.Background(), "app"); st.Lines != 5 {
		t.Errorf("Stats counts %d lines, want 5", st.Lines)
	}
}

// TestRetentionLoweredAtRestart lowers the retention between two runs (or,
// which is the same to the archive, leaves it stopped for days): the days now
// past it are deleted by Prune, which counts them, not by the engine as it
// opens, which would leave the counts holding lines that are gone.
func TestRetentionLoweredAtRestart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "archive")
	a := open(t, archive.Config{Dir: dir, Retention: 30 * 24 * time.Hour})
	write(t, a, entry(1, linesDaysAgo("app", 10, 2)...), entry(2, linesDaysAgo("app", 8, 3)...),
		entry(3, linesDaysAgo("app", 6, 4)...), entry(4, linesDaysAgo("app", 1, 5)...), entry(5, linesDaysAgo("app", 0, 6)...))
	a.Close()
	reg := prometheus.NewRegistry()
	b := open(t, archive.Config{Dir: dir, Retention: 3 * 24 * time.Hour, Registerer: reg})
	if n, err := b.Prune(context.Background(), time.Now()); err != nil || n != 9 {
		t.Errorf("Prune = %d, %v; want the 9 lines of 6, 8 and 10 days ago", n, err)
	}
	if got := metricValue(t, reg, "drainpipe_archive_rows_pruned_total"); got != 9 {
		t.Errorf("rows_pruned_total = %v, want 9", got)
	}
	if st, _ := b.Stats(context.Background(), "app"); st.Lines != 11 {
		t.Errorf("Stats counts %d lines, want the 11 left", st.Lines)
	}
	if n := countRows(t, b, "app"); n != 11 {
		t.Errorf("%d rows left, want 11", n)
	}
}
