package archive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/drainpipe/drainpipe"

	_ "modernc.org/sqlite" // registers the "sqlite" driver, to read the old archive
)

// importJournal stands for the import in a pending intent, where a journal's
// identity would be: it is no journal's.
const importJournal = "(import)"

// importChunk is how many old lines one import step stores (one barrier, one
// state save): large enough to amortise them, small enough that live writes
// wait for it only a moment.
const importChunk = 50_000

// legacyVersion is the PRAGMA user_version of the SQLite archive this imports.
const legacyVersion = 1

// errNoLegacy means the file holds no SQLite archive's lines (it may hold
// only the metrics history that lived in the same file).
var errNoLegacy = errors.New("no lines table")

// legacy is an open SQLite archive, read only.
type legacy struct {
	db *sql.DB
}

func openLegacy(path string) (*legacy, error) {
	// A relative path (the default data directory is ./drainpipe-data) would
	// become the URI's authority: file://drainpipe-data/archive.db.
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	u := url.URL{Scheme: "file", Path: abs, RawQuery: url.Values{"mode": {"ro"}, "_pragma": {"busy_timeout(5000)", "query_only(1)"}}.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, err
	}
	var version int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		db.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var tables int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('lines', 'state', 'app_counts')`).Scan(&tables); err != nil {
		db.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	switch {
	case version == 0 && tables == 0:
		db.Close()
		return nil, errNoLegacy
	case version != legacyVersion || tables != 3:
		db.Close()
		return nil, fmt.Errorf("%s: schema version %d is not the SQLite archive's (%d)", path, version, legacyVersion)
	}
	return &legacy{db: db}, nil
}

// lastID is the highest line id the old archive ever gave.
func (l *legacy) lastID(ctx context.Context) (int64, error) {
	var last int64
	err := l.db.QueryRowContext(ctx, `SELECT last_id FROM state WHERE id = 1`).Scan(&last)
	return last, err
}

// reserveLegacyIDs raises LastID to the old archive's, at Open and before any
// Write: imported lines keep their ids, and new lines must not take them.
func (a *Archive) reserveLegacyIDs(ctx context.Context) error {
	st := a.state
	if a.cfg.Import == "" || (st.Import != nil && st.Import.Path == a.cfg.Import) {
		return nil
	}
	if _, err := os.Stat(a.cfg.Import); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	l, err := openLegacy(a.cfg.Import)
	if errors.Is(err, errNoLegacy) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("import: %w%s", err, repairAdvice(err, a.cfg.Import))
	}
	defer l.db.Close()
	last, err := l.lastID(ctx)
	if err != nil {
		return fmt.Errorf("import: read %s: %w%s", a.cfg.Import, err, repairAdvice(err, a.cfg.Import))
	}
	next := st.clone()
	next.LastID = max(next.LastID, last)
	next.Import = &importState{Path: a.cfg.Import}
	if err := saveState(a.path(stateFile), next); err != nil {
		return err
	}
	a.state = next
	return nil
}

// importLoop imports Config.Import, once, in the background. An error is
// logged; the next start resumes where it stopped.
func (a *Archive) importLoop(ctx context.Context) {
	st := a.current()
	if st.Import == nil || st.Import.Done || st.Import.Path != a.cfg.Import {
		return
	}
	if err := a.importLegacy(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, ErrClosed) {
		a.log.Error("import of the SQLite archive stopped; it resumes at the next start", "file", a.cfg.Import, "err", err.Error()+repairAdvice(err, a.cfg.Import))
	}
}

// repairAdvice says what to do about a legacy file SQLite finds damaged (its
// pages malformed, or not a database at all); "" for other errors. Its lines
// keep their ids when imported, so new lines are numbered after the file's
// last: a start cannot go on without reading it, or move it aside itself.
func repairAdvice(err error, path string) string {
	var se interface{ Code() int }
	if !errors.As(err, &se) {
		return ""
	}
	switch se.Code() & 0xff {
	case sqliteCorrupt, sqliteNotADB:
		return fmt.Sprintf(": the file is damaged. Repair it (sqlite3 %s .recover | sqlite3 repaired.db, then put repaired.db in its place), "+
			"or move it out of the data directory to run without importing it; the lines imported so far stay", path)
	}
	return ""
}

// SQLite's primary result codes for a damaged file.
const (
	sqliteCorrupt = 11 // SQLITE_CORRUPT
	sqliteNotADB  = 26 // SQLITE_NOTADB
)

func (a *Archive) importLegacy(ctx context.Context) error {
	l, err := openLegacy(a.cfg.Import)
	if err != nil {
		return err
	}
	defer l.db.Close()
	var total, through int64
	through = a.current().Import.Through
	if err := l.db.QueryRowContext(ctx, `SELECT count(*) FROM lines WHERE id > ?`, through).Scan(&total); err != nil {
		return fmt.Errorf("count lines: %w", err)
	}
	a.log.Info("importing the SQLite archive", "file", a.cfg.Import, "lines", total, "from_id", through)
	var done int64
	report := time.Now()
	for {
		recs, ids, err := l.chunk(ctx, through, a.cfg.importChunk)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			break
		}
		if err := a.importChunk(ctx, recs, ids); err != nil {
			return err
		}
		through = ids[len(ids)-1]
		done += int64(len(recs))
		if time.Since(report) > 5*time.Second {
			a.log.Info("importing the SQLite archive", "lines", done, "of", total, "percent", math.Round(float64(done)*1000/float64(max(total, 1)))/10)
			report = time.Now()
		}
	}
	return a.finishImport(ctx, l)
}

const legacyColumns = `id, app, drain, time, received, priority, host, source, dyno, msgid, structured_data, message, malformed`

// chunk reads the next n lines after id through, by id.
func (l *legacy) chunk(ctx context.Context, through int64, n int) ([]drainpipe.Record, []int64, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT `+legacyColumns+` FROM lines WHERE id > ? ORDER BY id LIMIT ?`, through, n)
	if err != nil {
		return nil, nil, fmt.Errorf("read lines: %w", err)
	}
	defer rows.Close()
	var recs []drainpipe.Record
	var ids []int64
	for rows.Next() {
		var r drainpipe.Record
		var id, t, recv, prio int64
		if err := rows.Scan(&id, &r.App, &r.Drain, &t, &recv, &prio, &r.Host, &r.Source, &r.Dyno, &r.MsgID,
			&r.StructuredData, &r.Message, &r.Malformed); err != nil {
			return nil, nil, fmt.Errorf("read line: %w", err)
		}
		r.Time, r.Received, r.Priority = legacyTime(t), legacyTime(recv), int(prio)
		recs, ids = append(recs, r), append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read lines: %w", err)
	}
	return recs, ids, nil
}

// legacyTime reads the old archive's times: nanoseconds, math.MinInt64 for none.
func legacyTime(n int64) time.Time {
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// importChunk stores old lines under their old ids, with the same steps as a
// Write: intent, rows, barrier, state. Lines received before the retention
// are not imported: the old archive would have deleted them.
func (a *Archive) importChunk(ctx context.Context, recs []drainpipe.Record, ids []int64) error {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if a.closed {
		return ErrClosed
	}
	// The import's intent takes the place of the journal's.
	if err := a.settle(ctx); err != nil {
		return err
	}
	now := time.Now()
	win := newWindow(now, a.cfg.Retention)
	p := &plan{counts: map[string]*appCounts{}}
	present := a.importPresent
	for i := range recs {
		r := &recs[i]
		if a.cfg.Retention > 0 && r.Received.Before(now.Add(-a.cfg.Retention)) {
			continue
		}
		var skip func(int64) bool
		if present != nil {
			skip = func(id int64) bool { return present[id] }
		}
		p.work = append(p.work, job{rec: r, id: ids[i], present: skip})
		p.countRecord(r, win)
	}
	next := a.current().clone()
	next.Pending = &intent{Journal: importJournal, Entries: []intentEntry{{FirstID: ids[0], Rows: ids[len(ids)-1] - ids[0] + 1}}}
	if err := a.commit(next); err != nil {
		return err
	}
	days := a.addRows(p.work, win)
	a.importPresent = map[int64]bool{}
	for _, id := range ids {
		a.importPresent[id] = true
	}
	if err := a.store.barrier(ctx, days); err != nil {
		return err
	}
	done := next.clone()
	done.Pending = nil
	done.Import.Through = ids[len(ids)-1]
	for app, c := range p.counts {
		c.Dropped = 0 // the old archive's own count comes at the end, whole
		if done.Apps[app] == nil {
			done.Apps[app] = &appCounts{}
		}
		done.Apps[app].add(c)
	}
	if err := a.commit(done); err != nil {
		return err
	}
	a.importPresent = nil
	a.metrics.imported.Add(float64(p.lines))
	return nil
}

// finishImport adds the old archive's counts of lines Heroku dropped and marks
// the import done.
func (a *Archive) finishImport(ctx context.Context, l *legacy) error {
	rows, err := l.db.QueryContext(ctx, `SELECT app, dropped FROM app_counts`)
	if err != nil {
		return fmt.Errorf("read counts: %w", err)
	}
	dropped := map[string]int64{}
	for rows.Next() {
		var app string
		var n int64
		if err := rows.Scan(&app, &n); err != nil {
			rows.Close()
			return fmt.Errorf("read counts: %w", err)
		}
		dropped[app] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read counts: %w", err)
	}
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if a.closed {
		return ErrClosed
	}
	if err := a.settle(ctx); err != nil {
		return err
	}
	next := a.current().clone()
	for app, n := range dropped {
		if next.Apps[app] == nil {
			next.Apps[app] = &appCounts{}
		}
		next.Apps[app].Dropped += n
	}
	next.Import.Done = true
	if err := a.commit(next); err != nil {
		return err
	}
	a.log.Info("imported the SQLite archive; it is no longer read and can be deleted (with its -wal and -shm files)", "file", a.cfg.Import)
	return nil
}
