package metrics

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// Store keeps closed intervals in a SQLite database file of its own, for history:
// `drainpipe metrics`, graphs. It holds one table, metric_intervals.
type Store struct {
	db *sql.DB
}

// Series is one series' statistics over a window, merged from its intervals. For a
// counter the value is Sum; for a unique metric Sum is the distinct count over the
// whole window.
type Series struct {
	Name   string  `json:"name"`
	Source string  `json:"source"`
	Unit   string  `json:"unit"`
	Count  float64 `json:"count"`
	Sum    float64 `json:"sum"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
	Last   float64 `json:"last"`
	P50    float64 `json:"p50"`
	P95    float64 `json:"p95"`
	P99    float64 `json:"p99"`
	// Distribution says the series has quantiles (a measure, a router time): a
	// count or a sample has none, and its P50, P95 and P99 are 0.
	Distribution bool `json:"distribution"`
}

const schema = `
CREATE TABLE IF NOT EXISTS metric_intervals (
	app      TEXT    NOT NULL,
	name     TEXT    NOT NULL,
	source   TEXT    NOT NULL,
	unit     TEXT    NOT NULL,
	kind     INTEGER NOT NULL,
	start_ms INTEGER NOT NULL,
	end_ms   INTEGER NOT NULL,
	count    REAL    NOT NULL,
	sum      REAL    NOT NULL,
	min      REAL    NOT NULL,
	max      REAL    NOT NULL,
	last     REAL    NOT NULL,
	last_at  INTEGER NOT NULL,
	sketch   BLOB,
	distinct_set BLOB
);
CREATE INDEX IF NOT EXISTS metric_intervals_app_start ON metric_intervals (app, start_ms);
CREATE INDEX IF NOT EXISTS metric_intervals_end ON metric_intervals (end_ms);
`

// Save appends intervals, all or none. An interval saved twice counts twice, and a
// late interval with the same start as a saved one is merged with it by Query.
func (s *Store) Save(ctx context.Context, intervals []Interval) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save intervals: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	stmt, err := prepareInsert(ctx, tx)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range intervals {
		if err := insertInterval(ctx, stmt, &intervals[i], nil); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save intervals: %w", err)
	}
	return nil
}

func prepareInsert(ctx context.Context, tx *sql.Tx) (*sql.Stmt, error) {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO metric_intervals
		(app, name, source, unit, kind, start_ms, end_ms, count, sum, min, max, last, last_at, sketch, distinct_set, bucket)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("save intervals: %w", err)
	}
	return stmt, nil
}

// insertInterval inserts iv with bucket (a bucket ID, or nil for none). An
// interval holding a number that is not finite (which no aggregator makes since
// values are bounded, but a node of an older version may publish) is not stored.
func insertInterval(ctx context.Context, stmt *sql.Stmt, iv *Interval, bucket any) error {
	if !iv.finite() {
		return nil
	}
	var sk, dist []byte
	if iv.Sketch != nil {
		sk, _ = iv.Sketch.MarshalBinary()
	}
	if iv.Distinct != nil {
		dist, _ = iv.Distinct.MarshalBinary()
	}
	_, err := stmt.ExecContext(ctx, iv.App, iv.Name, iv.Source, iv.Unit, int(iv.Kind),
		iv.Start.UnixMilli(), iv.Start.Add(iv.Length).UnixMilli(),
		iv.Count, iv.Sum, iv.Min, iv.Max, iv.Last, iv.LastAt.UnixNano(), sk, dist, bucket)
	if err != nil {
		return fmt.Errorf("save interval %s/%s: %w", iv.App, iv.Name, err)
	}
	return nil
}

// Query merges, per series, the intervals of app that overlap [since, until) and whose
// name starts with namePrefix; the result is sorted by name, then source.
func (s *Store) Query(ctx context.Context, app string, since, until time.Time, namePrefix string) ([]Series, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, source, unit, kind, start_ms, end_ms,
		count, sum, min, max, last, last_at, sketch, distinct_set
		FROM metric_intervals
		WHERE app = ? AND start_ms < ? AND end_ms > ? AND substr(name, 1, ?) = ?`,
		app, until.UnixMilli(), since.UnixMilli(), len([]rune(namePrefix)), namePrefix)
	if err != nil {
		return nil, fmt.Errorf("query metric intervals: %w", err)
	}
	defer rows.Close()
	merged, err := mergeIntervals(rows, func(iv *Interval) seriesKey {
		iv.App = app
		return seriesKey{iv.Name, iv.Unit, iv.Source, iv.Kind}
	})
	if err != nil {
		return nil, err
	}
	out := make([]Series, 0, len(merged))
	for _, iv := range merged {
		out = append(out, seriesOf(*iv))
	}
	slices.SortFunc(out, func(a, b Series) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Unit, b.Unit))
	})
	return out, nil
}

func scanInterval(rows *sql.Rows) (Interval, error) {
	var iv Interval
	var kind int
	var startMS, endMS, lastAt int64
	var sk, dist []byte
	if err := rows.Scan(&iv.Name, &iv.Source, &iv.Unit, &kind, &startMS, &endMS,
		&iv.Count, &iv.Sum, &iv.Min, &iv.Max, &iv.Last, &lastAt, &sk, &dist); err != nil {
		return iv, fmt.Errorf("read metric interval: %w", err)
	}
	iv.Kind = Kind(kind)
	iv.Start = time.UnixMilli(startMS).UTC()
	iv.Length = time.Duration(endMS-startMS) * time.Millisecond
	iv.LastAt = time.Unix(0, lastAt).UTC()
	if sk != nil {
		iv.Sketch = new(Sketch)
		if err := iv.Sketch.UnmarshalBinary(sk); err != nil {
			return iv, fmt.Errorf("read metric interval %s: %w", iv.Name, err)
		}
	}
	if dist != nil {
		iv.Distinct = new(Distinct)
		if err := iv.Distinct.UnmarshalBinary(dist); err != nil {
			return iv, fmt.Errorf("read metric interval %s: %w", iv.Name, err)
		}
	}
	return iv, nil
}

func seriesOf(iv Interval) Series {
	return Series{
		Name: iv.Name, Source: iv.Source, Unit: iv.Unit,
		Count: iv.Count, Sum: iv.Sum, Min: iv.Min, Max: iv.Max, Mean: iv.Mean(), Last: iv.Last,
		P50: iv.Quantile(0.5), P95: iv.Quantile(0.95), P99: iv.Quantile(0.99), Distribution: iv.Sketch != nil,
	}
}

// MaxAhead is how far ahead of when its line was received a sample may be dated
// and still be filed at its own time, as the archive allows; Prune deletes the
// intervals that start further ahead of now.
const MaxAhead = 24 * time.Hour

// Prune deletes the intervals that ended retention or more before now, and those
// that start more than MaxAhead after now (written before the aggregator filed
// such samples at their received time: retention alone would never remove them),
// and says how many.
func (s *Store) Prune(ctx context.Context, now time.Time, retention time.Duration) (int64, error) {
	ahead := now.Add(MaxAhead).UnixMilli()
	// end_ms > ahead lets the end_ms index find the rows starting after ahead.
	res, err := s.db.ExecContext(ctx, `DELETE FROM metric_intervals WHERE end_ms <= ? OR (end_ms > ? AND start_ms > ?)`,
		now.Add(-retention).UnixMilli(), ahead, ahead)
	if err != nil {
		return 0, fmt.Errorf("prune metric intervals: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune metric intervals: %w", err)
	}
	return n, nil
}

// mergeIntervals reads the metric_intervals rows and merges the intervals that
// key (which may also adjust the interval) maps to the same K: a series over a
// window for Query, a series' step for RangeQuery.
func mergeIntervals[K comparable](rows *sql.Rows, key func(*Interval) K) (map[K]*Interval, error) {
	merged := make(map[K]*Interval)
	for rows.Next() {
		iv, err := scanInterval(rows)
		if err != nil {
			return nil, err
		}
		if !iv.finite() {
			continue // stored before values were bounded: unreadable as JSON
		}
		k := key(&iv)
		if m := merged[k]; m != nil {
			if err := m.merge(iv); err != nil {
				return nil, err
			}
		} else {
			merged[k] = &iv
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query metric intervals: %w", err)
	}
	return merged, nil
}
