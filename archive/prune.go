package archive

import (
	"context"
	"fmt"
	"time"
)

// pruneChunk is how many lines one prune transaction deletes: small enough that
// a Write waiting for the writer is held up for milliseconds, not seconds.
const pruneChunk = 5000

// Prune deletes the lines received before now minus the retention, with their
// index entries, and returns how many it deleted. It works in chunks, one
// transaction each, letting writes through between them; when ctx ends it
// stops after the current chunk and returns what it deleted and ctx's error.
func (a *Archive) Prune(ctx context.Context, now time.Time) (int64, error) {
	if a.retention < 0 {
		return 0, nil
	}
	cutoff := nanos(now.Add(-a.retention))
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := a.pruneChunk(ctx, cutoff)
		total += n
		a.metrics.rowsPruned.Add(float64(n))
		if err != nil {
			return total, fmt.Errorf("prune: %w", err)
		}
		if n < pruneChunk {
			return total, nil
		}
	}
}

// pruneSteps delete one chunk: pick the oldest expired ids into a temporary
// table, take them off the per-app counts, the index, then the lines.
var pruneSteps = []string{
	`CREATE TEMP TABLE IF NOT EXISTS prune_ids (id INTEGER PRIMARY KEY)`,
	`DELETE FROM temp.prune_ids`,
	`INSERT INTO temp.prune_ids SELECT id FROM lines WHERE received < ? ORDER BY received LIMIT ?`,
	`UPDATE app_counts SET lines = app_counts.lines - d.lines, malformed = app_counts.malformed - d.malformed
		FROM (SELECT app, count(*) AS lines, sum(malformed) AS malformed FROM lines
			WHERE id IN temp.prune_ids GROUP BY app) AS d
		WHERE app_counts.app = d.app`,
	`DELETE FROM app_counts WHERE lines <= 0`,
	`INSERT INTO lines_fts (lines_fts, rowid, message)
		SELECT 'delete', id, message FROM lines WHERE id IN temp.prune_ids`,
	`DELETE FROM lines WHERE id IN temp.prune_ids`,
}

func (a *Archive) pruneChunk(ctx context.Context, cutoff int64) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	tx, err := a.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var n int64
	for i, step := range pruneSteps {
		var args []any
		if i == 2 {
			args = []any{cutoff, pruneChunk}
		}
		res, err := tx.ExecContext(ctx, step, args...)
		if err != nil {
			return 0, err
		}
		if i == len(pruneSteps)-1 {
			if n, err = res.RowsAffected(); err != nil {
				return 0, err
			}
		}
	}
	if n == 0 {
		return 0, nil
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return n, nil
}

// pruneLoop runs Prune at start and then every interval until ctx ends.
func (a *Archive) pruneLoop(ctx context.Context) {
	defer close(a.loopDone)
	if a.retention < 0 || a.interval < 0 {
		return
	}
	t := time.NewTicker(a.interval)
	defer t.Stop()
	for {
		n, err := a.Prune(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Error("archive retention failed", "err", err, "pruned", n)
		case n > 0:
			a.log.Info("archive retention", "pruned", n, "retention", a.retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
