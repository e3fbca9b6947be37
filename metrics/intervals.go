package metrics

import (
	"context"
	"fmt"
	"time"
)

// Intervals merges, per app, source, unit and kind, the intervals of the series
// named name (exactly) whose start is in [since, until), for app or for every app
// when app is "". Alert rules read series with it: a window of a rule holds the
// intervals that start in it.
func (s *Store) Intervals(ctx context.Context, app, name string, since, until time.Time) ([]Interval, error) {
	apps := []string{app}
	if app == "" {
		var err error
		if apps, err = s.appsWith(ctx, name, since, until); err != nil {
			return nil, err
		}
	}
	var out []Interval
	for _, a := range apps {
		ivs, err := s.intervalsOf(ctx, a, name, since, until)
		if err != nil {
			return nil, err
		}
		out = append(out, ivs...)
	}
	return out, nil
}

func (s *Store) appsWith(ctx context.Context, name string, since, until time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT app FROM metric_intervals WHERE name = ? AND start_ms >= ? AND start_ms < ?`,
		name, since.UnixMilli(), until.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("query metric apps: %w", err)
	}
	defer rows.Close()
	var apps []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("query metric apps: %w", err)
		}
		apps = append(apps, a)
	}
	return apps, rows.Err()
}

func (s *Store) intervalsOf(ctx context.Context, app, name string, since, until time.Time) ([]Interval, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, source, unit, kind, start_ms, end_ms,
		count, sum, min, max, last, last_at, sketch, distinct_set
		FROM metric_intervals WHERE app = ? AND start_ms >= ? AND start_ms < ? AND name = ?
		ORDER BY source, unit, kind, start_ms`,
		app, since.UnixMilli(), until.UnixMilli(), name)
	if err != nil {
		return nil, fmt.Errorf("query metric intervals: %w", err)
	}
	defer rows.Close()
	var out []Interval
	for rows.Next() {
		iv, err := scanInterval(rows)
		if err != nil {
			return nil, err
		}
		iv.App = app
		if n := len(out); n > 0 && sameSeries(out[n-1], iv) {
			if err := out[n-1].Merge(iv); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, iv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query metric intervals: %w", err)
	}
	return out, nil
}

func sameSeries(a, b Interval) bool {
	return a.Name == b.Name && a.Source == b.Source && a.Unit == b.Unit && a.Kind == b.Kind
}
