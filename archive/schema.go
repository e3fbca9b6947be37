package archive

import (
	"context"
	"database/sql"
	"fmt"
)

// pageSize is the database page size; see the package doc for the measurements.
const pageSize = 4096

// schemaVersion is stored in PRAGMA user_version; Open refuses a newer file
// rather than guessing at a layout it does not know.
const schemaVersion = 1

// schema is the whole layout, documented for sqlite3 users in the package doc.
// lines has no AUTOINCREMENT: ids are assigned by Write from state.last_id,
// which is never lowered, so pruning every line never lets an id be reused
// (a follower's cursor stays valid).
var schema = []string{
	`CREATE TABLE lines (
		id              INTEGER PRIMARY KEY,
		app             TEXT    NOT NULL,
		drain           TEXT    NOT NULL,
		time            INTEGER NOT NULL,
		received        INTEGER NOT NULL,
		priority        INTEGER NOT NULL,
		host            TEXT    NOT NULL,
		source          TEXT    NOT NULL,
		dyno            TEXT    NOT NULL,
		msgid           TEXT    NOT NULL,
		structured_data TEXT    NOT NULL,
		message         TEXT    NOT NULL,
		malformed       INTEGER NOT NULL
	)`,
	`CREATE INDEX lines_app_time ON lines (app, time)`,
	`CREATE INDEX lines_app_id ON lines (app, id)`,
	`CREATE INDEX lines_received ON lines (received)`,
	// External content: the text lives once, in lines.message; the index maps
	// tokens to line ids.
	`CREATE VIRTUAL TABLE lines_fts USING fts5 (
		message,
		content = 'lines',
		content_rowid = 'id',
		columnsize = 0,
		tokenize = 'unicode61'
	)`,
	// Merge segments 8 at a time instead of 4: less rewriting on ingest, a
	// few more segments for a query to read.
	`INSERT INTO lines_fts (lines_fts, rank) VALUES ('automerge', 8)`,
	// Let a write's new terms collect in a 32 MiB hash before FTS5 flushes them
	// to a segment (default 1 MiB): fewer, larger segments per transaction. It
	// took BenchmarkWrite from ~31-37k to ~45k lines/s here.
	`INSERT INTO lines_fts (lines_fts, rank) VALUES ('hashsize', 33554432)`,
	`CREATE TABLE state (
		id          INTEGER PRIMARY KEY CHECK (id = 1),
		applied_seq INTEGER NOT NULL,
		last_id     INTEGER NOT NULL
	)`,
	`INSERT INTO state (id, applied_seq, last_id) VALUES (1, 0, 0)`,
	`CREATE TABLE app_counts (
		app       TEXT PRIMARY KEY,
		lines     INTEGER NOT NULL,
		malformed INTEGER NOT NULL,
		dropped   INTEGER NOT NULL DEFAULT 0
	) WITHOUT ROWID`,
}

// migrate creates the schema in a new file, and checks the version of an old one.
func migrate(ctx context.Context, db *sql.DB) error {
	// page_size only takes effect before the first table is created, and
	// journal_mode=WAL persists in the file; both are harmless on an old file.
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`PRAGMA page_size = %d`, pageSize)); err != nil {
		return fmt.Errorf("set page size: %w", err)
	}
	var mode string
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
		return fmt.Errorf("set WAL mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("set WAL mode: journal mode is %q", mode)
	}
	var version int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case version == schemaVersion:
		return nil
	case version > schemaVersion:
		return fmt.Errorf("schema version %d is newer than this drainpipe (%d)", version, schemaVersion)
	case version != 0:
		return fmt.Errorf("unknown schema version %d", version)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, stmt := range schema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion)); err != nil {
		return fmt.Errorf("set schema version: %w", err)
	}
	return tx.Commit()
}
