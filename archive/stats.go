package archive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AppStats summarizes what the archive holds for one app.
type AppStats struct {
	// Lines and Malformed count the stored lines, and those among them that did not parse.
	Lines, Malformed int64
	// Dropped counts the lines Heroku reported it dropped before they reached us.
	Dropped int64
	// First and Last are the oldest and newest line Time; zero when there are no lines.
	First, Last time.Time
	// LastReceived is when the most recently arrived line was received.
	LastReceived time.Time
}

// Stats returns app's counts and times. An app with no lines has zero stats.
func (a *Archive) Stats(ctx context.Context, app string) (AppStats, error) {
	// One read transaction: the counts and times come from the same snapshot.
	tx, err := a.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return AppStats{}, fmt.Errorf("app stats: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	var s AppStats
	err = tx.QueryRowContext(ctx, `SELECT lines, malformed, dropped FROM app_counts WHERE app = ?`, app).Scan(&s.Lines, &s.Malformed, &s.Dropped)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && s.Lines == 0) {
		return AppStats{}, nil
	}
	if err != nil {
		return AppStats{}, fmt.Errorf("app stats: %w", err)
	}
	// Each of these is one step down an index.
	var first, last, recv int64
	for _, q := range []struct {
		dst *int64
		sql string
	}{
		{&first, `SELECT time FROM lines WHERE app = ? ORDER BY time LIMIT 1`},
		{&last, `SELECT time FROM lines WHERE app = ? ORDER BY time DESC LIMIT 1`},
		{&recv, `SELECT received FROM lines WHERE app = ? ORDER BY id DESC LIMIT 1`},
	} {
		if err := tx.QueryRowContext(ctx, q.sql, app).Scan(q.dst); err != nil {
			return AppStats{}, fmt.Errorf("app stats: %w", err)
		}
	}
	s.First, s.Last, s.LastReceived = fromNanos(first), fromNanos(last), fromNanos(recv)
	return s, nil
}
