package archive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// Prune deletes whole days of lines, oldest first: every day that ended more
// than the retention before now, then, while the archive is over
// Config.MaxBytes, the oldest days left (never the newest two). It returns how
// many lines it deleted. The per-app counts lose the deleted lines in the same
// step (see the package doc, "Retention").
func (a *Archive) Prune(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, day := range a.partitions() {
		if a.cfg.Retention < 0 || (day+1)*nsPerDay > now.Add(-a.cfg.Retention).UnixNano() {
			break
		}
		n, err := a.dropDay(ctx, day, pruneAge)
		total += n
		if err != nil {
			return total, err
		}
	}
	if a.cfg.MaxBytes <= 0 {
		return total, nil
	}
	for {
		days := a.partitions()
		size := dirSize(a.cfg.Dir)
		if size <= a.cfg.MaxBytes || len(days) <= 2 {
			return total, nil
		}
		n, err := a.dropDay(ctx, days[0], pruneDisk)
		total += n
		if err != nil {
			return total, err
		}
	}
}

// partitions returns the days the storage holds, oldest first.
func (a *Archive) partitions() []int64 {
	var days []int64
	for _, name := range a.store.st.PartitionList() {
		if t, err := time.Parse("20060102", name); err == nil {
			days = append(days, t.UnixNano()/nsPerDay)
		}
	}
	slices.Sort(days)
	return days
}

// dropDay deletes one day: it counts the day's lines per app, takes them off
// the counts and records the day as being deleted (one durable step), then
// detaches and deletes the partition, then clears the record. A crash in
// between leaves the record, and Open finishes the deletion.
func (a *Archive) dropDay(ctx context.Context, day int64, reason string) (int64, error) {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if a.closed {
		return 0, ErrClosed
	}
	// The day's lines come off the counts: staged rows must be counted first.
	if err := a.settle(ctx); err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	name := dayName(day)
	counts, err := a.dayCounts(ctx, day)
	if err != nil {
		return 0, fmt.Errorf("retention: count day %s: %w", name, err)
	}
	next := a.current().clone()
	var lines int64
	for app, c := range counts {
		lines += c.Lines
		if have := next.Apps[app]; have != nil {
			have.Lines = max(0, have.Lines-c.Lines)
			have.Malformed = max(0, have.Malformed-c.Malformed)
		}
	}
	next.Dropping = append(next.Dropping, name)
	if err := a.commit(next); err != nil {
		return 0, err
	}
	a.store.gate.Lock()
	err = a.store.st.PartitionDetach(name)
	a.store.gate.Unlock()
	if err != nil {
		return 0, fmt.Errorf("retention: detach day %s: %w", name, err)
	}
	if err := removePartition(filepath.Join(a.cfg.Dir, engineDir), name); err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	done := a.current().clone()
	done.Dropping = slices.DeleteFunc(done.Dropping, func(d string) bool { return d == name })
	a.refreshFirst(ctx, done, counts)
	if err := a.commit(done); err != nil {
		return 0, err
	}
	a.metrics.rowsPruned.WithLabelValues(reason).Add(float64(lines))
	a.metrics.daysPruned.WithLabelValues(reason).Inc()
	a.log.Info("archive retention deleted a day", "day", name, "lines", lines, "reason", reason)
	return lines, nil
}

// dayCounts counts the lines (rows, less the second and later parts of long
// messages) and malformed lines of day, per app.
func (a *Archive) dayCounts(ctx context.Context, day int64) (map[string]*appCounts, error) {
	counts := map[string]*appCounts{}
	q := fmt.Sprintf(`* | stats by (%s) count() if (%s:"" or %s:="1/"*) lines, count() if (%s:=1) malformed`,
		FieldApp, FieldPart, FieldPart, FieldMalformed)
	err := a.queryString(ctx, q, timeRange{day * nsPerDay, (day+1)*nsPerDay - 1}, func(cols columns) error {
		apps, lines, malformed := cols.get(FieldApp), cols.get("lines"), cols.get("malformed")
		for i := range apps {
			l, err1 := strconv.ParseInt(lines[i], 10, 64)
			m, err2 := strconv.ParseInt(malformed[i], 10, 64)
			if err := errors.Join(err1, err2); err != nil {
				return err
			}
			counts[apps[i]] = &appCounts{Lines: l, Malformed: m}
		}
		return nil
	})
	return counts, err
}

// refreshFirst sets the oldest time of the apps that lost lines to the oldest
// _time left (or none).
func (a *Archive) refreshFirst(ctx context.Context, s *state, apps map[string]*appCounts) {
	for app := range apps {
		c := s.Apps[app]
		if c == nil {
			continue
		}
		c.First = 0
		_ = a.queryString(ctx, appFilter(app)+" | stats min("+FieldTime+") first", allTime(), func(cols columns) error {
			for _, v := range cols.get("first") {
				if t, err := parseTime(v); err == nil && v != "" {
					c.First = t.UnixNano()
				}
			}
			return nil
		})
	}
}

// removePartition deletes a detached partition's directory.
func removePartition(engine, name string) error {
	dir := filepath.Join(engine, "partitions", name)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("delete day %s: %w", name, err)
	}
	if err := syncDir(filepath.Dir(dir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete day %s: %w", name, err)
	}
	return nil
}

// finishDrops deletes the days a crash left half deleted, before the storage
// opens, and clears their record.
func finishDrops(dir string, s *state, log *slog.Logger) error {
	if len(s.Dropping) == 0 {
		return nil
	}
	for _, name := range s.Dropping {
		if err := removePartition(filepath.Join(dir, engineDir), name); err != nil {
			return err
		}
		log.Info("finished deleting a day that retention was deleting when the process stopped", "day", name)
	}
	s.Dropping = nil
	return saveState(filepath.Join(dir, stateFile), s)
}

// pruneLoop runs Prune at start and then every interval until ctx ends.
func (a *Archive) pruneLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.PruneInterval)
	defer t.Stop()
	for {
		n, err := a.Prune(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil && !errors.Is(err, ErrClosed):
			a.log.Error("archive retention failed", "err", err, "pruned", n)
		case n > 0:
			a.log.Info("archive retention", "pruned", n, "retention", a.cfg.Retention, "max_bytes", a.cfg.MaxBytes)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
