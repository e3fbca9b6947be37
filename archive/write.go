package archive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/herokulog"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// rowsPerInsert is how many lines one INSERT statement carries: one call into
// SQLite per 64 lines instead of per line (13 parameters each, far under
// SQLite's 32766).
const rowsPerInsert = 64

const lineColumns = `id, app, drain, time, received, priority, host, source, dyno, msgid, structured_data, message, malformed`

// insertSQL returns the INSERT for n lines.
func insertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO lines (` + lineColumns + `) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	}
	return b.String()
}

// stmts are the writer's statements, prepared once on its connection.
type stmts struct {
	readState, insert, index, count, writeState *sql.Stmt
}

func (s *stmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&s.readState, `SELECT applied_seq, last_id FROM state WHERE id = 1`},
		{&s.insert, insertSQL(rowsPerInsert)},
		{&s.index, `INSERT INTO lines_fts (rowid, message) SELECT id, message FROM lines WHERE id > ?`},
		{&s.count, `INSERT INTO app_counts (app, lines, malformed, dropped) VALUES (?, ?, ?, ?)
			ON CONFLICT (app) DO UPDATE SET lines = lines + excluded.lines, malformed = malformed + excluded.malformed,
			dropped = dropped + excluded.dropped`},
		{&s.writeState, `UPDATE state SET applied_seq = ?, last_id = ? WHERE id = 1`},
	} {
		var err error
		if *p.st, err = db.PrepareContext(ctx, p.sql); err != nil {
			return fmt.Errorf("prepare %q: %w", p.sql[:min(len(p.sql), 40)], err)
		}
	}
	return nil
}

// Write stores the records of entries not stored before, in one transaction
// that also records the highest entry Seq applied: an entry the journal
// delivers again after a crash (Seq ≤ that) is skipped, so no line is stored
// twice. Busy, full-disk and I/O errors are retried with backoff until ctx ends.
func (a *Archive) Write(ctx context.Context, entries []drainpipe.Entry) error {
	backoff := 50 * time.Millisecond
	for {
		err := a.write(ctx, entries)
		if err == nil || !transient(err) {
			return err
		}
		a.log.Warn("archive write failed, retrying", "err", err, "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// transient reports whether err may go away by itself: another process holds
// the lock, the disk is full, or an I/O error.
func transient(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR:
		return true
	}
	return false
}

// write is one attempt of Write: one transaction, all or nothing.
func (a *Archive) write(ctx context.Context, entries []drainpipe.Entry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	start := time.Now()
	tx, err := a.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("archive write: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var applied, last int64
	if err := tx.StmtContext(ctx, a.stmts.readState).QueryRowContext(ctx).Scan(&applied, &last); err != nil {
		return fmt.Errorf("archive write: read state: %w", err)
	}
	ins := &inserter{ctx: ctx, tx: tx, st: &a.stmts, insert: tx.StmtContext(ctx, a.stmts.insert),
		next: last + 1, counts: map[string]*appCount{}}
	seq := applied
	for _, e := range entries {
		if e.Seq > math.MaxInt64 {
			return fmt.Errorf("archive write: entry seq %d out of range", e.Seq)
		}
		if int64(e.Seq) <= seq {
			a.metrics.entriesSkipped.Inc()
			continue
		}
		seq = int64(e.Seq)
		for _, b := range e.Batches {
			ins.count(b.App).dropped += int64(herokulog.BatchLoss(&b).Total)
			for i := range b.Records {
				if err := ins.add(&b.Records[i]); err != nil {
					return fmt.Errorf("archive write: %w", err)
				}
			}
		}
	}
	if seq == applied {
		return nil // every entry was stored before
	}
	if err := ins.finish(last, seq); err != nil {
		return fmt.Errorf("archive write: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("archive write: commit: %w", err)
	}
	lines := ins.next - 1 - last
	a.metrics.linesWritten.Add(float64(lines))
	for app, c := range ins.counts {
		if c.dropped > 0 {
			a.metrics.herokuDropped.WithLabelValues(app).Add(float64(c.dropped))
		}
	}
	a.metrics.writeDuration.Observe(time.Since(start).Seconds())
	if lines > 0 {
		a.notify.publish(ins.next - 1)
	}
	return nil
}

// appCount is what one write adds to an app's counts. Dropped counts the lines
// Heroku reported it lost before they reached us: its L10/L12/L13 lines and the
// sender's drop headers.
type appCount struct{ lines, malformed, dropped int64 }

// inserter buffers lines into multi-row INSERTs within one transaction.
type inserter struct {
	ctx    context.Context
	tx     *sql.Tx
	next   int64 // id of the next line
	args   []any
	rows   int
	st     *stmts
	insert *sql.Stmt // st.insert on this transaction
	counts map[string]*appCount
}

func (in *inserter) add(r *drainpipe.Record) error {
	malformed := int64(0)
	if r.Malformed {
		malformed = 1
	}
	in.args = append(in.args, in.next, r.App, r.Drain, nanos(r.Time), nanos(r.Received),
		int64(r.Priority), r.Host, r.Source, r.Dyno, r.MsgID, r.StructuredData, r.Message, malformed)
	in.next++
	in.rows++
	c := in.count(r.App)
	c.lines++
	c.malformed += malformed
	if in.rows == rowsPerInsert {
		return in.flush()
	}
	return nil
}

// count returns the counts of app in this write.
func (in *inserter) count(app string) *appCount {
	c := in.counts[app]
	if c == nil {
		c = &appCount{}
		in.counts[app] = c
	}
	return c
}

// flush inserts the buffered lines.
func (in *inserter) flush() error {
	if in.rows == 0 {
		return nil
	}
	var err error
	if in.rows == rowsPerInsert {
		_, err = in.insert.ExecContext(in.ctx, in.args...)
	} else {
		_, err = in.tx.ExecContext(in.ctx, insertSQL(in.rows), in.args...)
	}
	if err != nil {
		return fmt.Errorf("insert lines: %w", err)
	}
	clear(in.args)
	in.args = in.args[:0]
	in.rows = 0
	return nil
}

// finish flushes the last lines, indexes the new lines' messages in one
// statement, and records the counts and the state.
func (in *inserter) finish(last, seq int64) error {
	if err := in.flush(); err != nil {
		return err
	}
	if in.next-1 > last {
		if _, err := in.tx.StmtContext(in.ctx, in.st.index).ExecContext(in.ctx, last); err != nil {
			return fmt.Errorf("index lines: %w", err)
		}
	}
	for app, c := range in.counts {
		if _, err := in.tx.StmtContext(in.ctx, in.st.count).ExecContext(in.ctx, app, c.lines, c.malformed, c.dropped); err != nil {
			return fmt.Errorf("count lines: %w", err)
		}
	}
	if _, err := in.tx.StmtContext(in.ctx, in.st.writeState).ExecContext(in.ctx, seq, in.next-1); err != nil {
		return fmt.Errorf("update state: %w", err)
	}
	return nil
}

// Times are stored as integer nanoseconds since the Unix epoch (UTC), which
// covers the years 1678 to 2262; a time outside that is clamped to the nearest
// end. The smallest value stands for the zero time.Time.
const zeroTime = math.MinInt64

var (
	minTime = time.Unix(0, zeroTime+1)
	maxTime = time.Unix(0, math.MaxInt64)
)

func nanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return zeroTime
	case t.Before(minTime):
		return zeroTime + 1
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == zeroTime {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
