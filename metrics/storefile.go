package metrics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

// StoreConfig says where the metrics history lives.
type StoreConfig struct {
	// Path is the store's SQLite file, <data>/metrics.db; it is created (mode 0600)
	// when missing.
	Path string
	// Legacy is a database that held the history before it had a file of its own
	// (<data>/archive.db, where metric_intervals lived until the archive left SQLite).
	// On the store's first start its intervals are copied over, once; the legacy file
	// is only read. Empty, or a file that is missing, copies nothing.
	Legacy string
	// Logger says what was copied.
	Logger *slog.Logger
}

// OpenStore opens (or creates) the metrics history at cfg.Path, and on its first
// start copies the history kept in cfg.Legacy. Close it when done.
func OpenStore(ctx context.Context, cfg StoreConfig) (*Store, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// SQLite gives the -wal and -shm files the database file's mode: create it 0600.
	f, err := os.OpenFile(cfg.Path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("metrics store: %w", err)
	}
	_ = f.Close()
	dsn, err := sqliteURI(cfg.Path, url.Values{"_pragma": {"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)"}})
	if err != nil {
		return nil, fmt.Errorf("metrics store: %w", err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("metrics store: %w", err)
	}
	db.SetMaxOpenConns(1) // one writer; queries are short and wait their turn
	if _, err := db.ExecContext(ctx, schema+metaSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("metrics store %s: create tables: %w", cfg.Path, err)
	}
	s := &Store{db: db}
	if err := s.addBucketColumn(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("metrics store %s: %w", cfg.Path, err)
	}
	if err := s.copyLegacy(ctx, cfg.Legacy, cfg.Logger); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// sqliteURI is the URI of the SQLite file at path with query: the path made
// absolute (a relative one would be read as the URI's authority) and escaped, so
// that a '#' or '?' in it stays part of the file's name.
func sqliteURI(path string, query url.Values) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("path %s: %w", path, err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: query.Encode()}
	return u.String(), nil
}

// Close closes the store's database.
func (s *Store) Close() error { return s.db.Close() }

// metaSchema notes what was done once: the copy of a legacy history.
const metaSchema = `
CREATE TABLE IF NOT EXISTS metric_store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`

// copyLegacy copies the metric_intervals of the legacy database into the store,
// in one transaction, unless a copy was made before (a history pruned to nothing
// must not come back from an old file).
func (s *Store) copyLegacy(ctx context.Context, legacy string, log *slog.Logger) error {
	if legacy == "" {
		return nil
	}
	if _, err := os.Stat(legacy); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	conn, err := s.db.Conn(ctx) // ATTACH is per connection: keep this one
	if err != nil {
		return fmt.Errorf("metrics store: %w", err)
	}
	defer conn.Close()
	var done int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM metric_store_meta WHERE key = 'legacy_copied'`).Scan(&done); err != nil {
		return fmt.Errorf("metrics store: %w", err)
	}
	if done > 0 {
		return nil
	}
	uri, err := sqliteURI(legacy, url.Values{"mode": {"ro"}})
	if err != nil {
		return fmt.Errorf("metrics store: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS legacy`, uri); err != nil {
		return fmt.Errorf("metrics store: open %s to copy its history: %w", legacy, err)
	}
	defer conn.ExecContext(context.Background(), `DETACH DATABASE legacy`) //nolint:errcheck // the connection closes anyway
	n, err := copyIntervals(ctx, conn, legacy)
	if err != nil {
		return err
	}
	if n > 0 {
		log.Info("metrics history copied to its own file", "from", legacy, "intervals", n)
	}
	return nil
}

// copyIntervals copies legacy.metric_intervals, if the legacy database has that
// table, and marks the copy made, all in one transaction.
func copyIntervals(ctx context.Context, conn *sql.Conn, legacy string) (int64, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("metrics store: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var tables int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM legacy.sqlite_master WHERE type = 'table' AND name = 'metric_intervals'`).Scan(&tables); err != nil {
		return 0, fmt.Errorf("metrics store: read %s: %w", legacy, err)
	}
	var n int64
	if tables > 0 {
		res, err := tx.ExecContext(ctx, `INSERT INTO main.metric_intervals
			(app, name, source, unit, kind, start_ms, end_ms, count, sum, min, max, last, last_at, sketch, distinct_set)
			SELECT app, name, source, unit, kind, start_ms, end_ms, count, sum, min, max, last, last_at, sketch, distinct_set
			FROM legacy.metric_intervals`)
		if err != nil {
			return 0, fmt.Errorf("metrics store: copy the history of %s: %w", legacy, err)
		}
		n, _ = res.RowsAffected()
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO metric_store_meta (key, value) VALUES ('legacy_copied', ?)`, legacy); err != nil {
		return 0, fmt.Errorf("metrics store: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("metrics store: copy the history of %s: %w", legacy, err)
	}
	return n, nil
}
