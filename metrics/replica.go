package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
)

// A node's Store is its replica of the History: Apply takes the History's
// messages in order, each in one transaction with the position it reached, so a
// restart resumes after the last message applied and none is applied twice.

// addBucketColumn gives a store made before the History its bucket column: one
// row per bucket ID, so a later snapshot of a bucket replaces the earlier one.
func (s *Store) addBucketColumn(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('metric_intervals') WHERE name = 'bucket'`).Scan(&n); err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	if n == 0 {
		if _, err := s.db.ExecContext(ctx, `ALTER TABLE metric_intervals ADD COLUMN bucket TEXT`); err != nil {
			return fmt.Errorf("add bucket column: %w", err)
		}
	}
	_, err := s.db.ExecContext(ctx, `CREATE UNIQUE INDEX IF NOT EXISTS metric_intervals_bucket ON metric_intervals (bucket) WHERE bucket IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("bucket index: %w", err)
	}
	return nil
}

// Position returns the History message the store applied last: the log's
// identity and its sequence number ("" and 0 before the first).
func (s *Store) Position(ctx context.Context) (string, uint64, error) {
	var log, seq sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT value FROM metric_store_meta WHERE key = 'history_log'),
		(SELECT value FROM metric_store_meta WHERE key = 'history_seq')`).Scan(&log, &seq)
	if err != nil {
		return "", 0, fmt.Errorf("metrics store position: %w", err)
	}
	if log.String == "" {
		return "", 0, nil
	}
	n, err := strconv.ParseUint(seq.String, 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("metrics store position %q: %w", seq.String, err)
	}
	return log.String, n, nil
}

// Apply stores the intervals of message seq of the History log, replacing the
// rows of the same buckets, and records the position, all in one transaction.
func (s *Store) Apply(ctx context.Context, log string, seq uint64, ivs []Interval) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("apply intervals: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	del, err := tx.PrepareContext(ctx, `DELETE FROM metric_intervals WHERE bucket = ?`)
	if err != nil {
		return fmt.Errorf("apply intervals: %w", err)
	}
	defer del.Close()
	ins, err := prepareInsert(ctx, tx)
	if err != nil {
		return err
	}
	defer ins.Close()
	for i := range ivs {
		iv := &ivs[i]
		var bucket any
		if iv.ID != "" {
			bucket = iv.ID
			if _, err := del.ExecContext(ctx, iv.ID); err != nil {
				return fmt.Errorf("apply interval %s: %w", iv.ID, err)
			}
		}
		if err := insertInterval(ctx, ins, iv, bucket); err != nil {
			return err
		}
	}
	for k, v := range map[string]string{"history_log": log, "history_seq": strconv.FormatUint(seq, 10)} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO metric_store_meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v); err != nil {
			return fmt.Errorf("apply intervals: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("apply intervals: %w", err)
	}
	return nil
}
