package archive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrBadQuery means a search's Match is not a valid FTS5 query. The error
// wrapping it says why, in a sentence fit for the user.
var ErrBadQuery = errors.New("bad search query")

// DefaultLimit is the number of lines Search returns when Query.Limit is not positive.
const DefaultLimit = 100

// Query selects lines of one app for Search.
type Query struct {
	// App is the app whose lines are searched; required.
	App string
	// Match is an FTS5 query on the message: words (H12), OR/AND/NOT, "a phrase",
	// prefix*, NEAR(a b). Words match whole tokens, case-insensitively; "" matches every line.
	Match string
	// Since and Until bound the line's own Time: Since ≤ Time < Until. Zero is open.
	Since, Until time.Time
	// Source and Dyno keep only lines with exactly this source ("app", "heroku")
	// or dyno ("web.1", "router"); empty keeps all.
	Source, Dyno string
	// Malformed, when set, keeps only malformed (true) or well-formed (false) lines.
	Malformed *bool
	// Limit caps the number of lines returned; DefaultLimit when not positive.
	Limit int
	// Before is a paging cursor: the ID of the last line of the previous page.
	// Search then returns the lines that come after it in newest-first order,
	// so paging neither repeats nor skips a line. When that line is gone (pruned),
	// it returns the lines with IDs below Before.
	Before int64
}

// Line is a stored record and its ID, which increases in arrival order and is
// never reused.
type Line struct {
	ID int64
	drainpipe.Record
}

const selectLines = `SELECT id, app, drain, time, received, priority, host, source, dyno, msgid, structured_data, message, malformed FROM lines`

// Search returns up to q.Limit lines of q.App that match q, newest first: by
// Time, then by ID. A Match that is not a valid FTS5 query returns an error
// wrapping ErrBadQuery.
func (a *Archive) Search(ctx context.Context, q Query) ([]Line, error) {
	if q.App == "" {
		return nil, fmt.Errorf("%w: no app given", ErrBadQuery)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	where, args := q.filters()
	if q.Match != "" {
		n, err := a.countMatches(ctx, q.Match)
		if err != nil {
			return nil, err
		}
		if n < fewMatches {
			// Few lines match in all: fetch them by id and sort them. The
			// unary + keeps SQLite from walking the app's lines instead and
			// checking each against the matches, which reads every line of
			// the app when the matches are few or old.
			where[0] = `+app = ?`
		}
		where = append(where, `id IN (SELECT rowid FROM lines_fts WHERE lines_fts MATCH ?)`)
		args = append(args, q.Match)
	}
	if q.Before > 0 {
		cond, cargs, err := a.cursor(ctx, q.Before)
		if err != nil {
			return nil, err
		}
		where = append(where, cond)
		args = append(args, cargs...)
	}
	query := selectLines + ` WHERE ` + strings.Join(where, ` AND `) + ` ORDER BY time DESC, id DESC LIMIT ?`
	args = append(args, limit)
	lines, err := a.query(ctx, query, args...)
	if err != nil && q.Match != "" {
		return nil, badQuery(err)
	}
	return lines, err
}

// filters returns the conditions on the lines' own columns, and their arguments.
func (q *Query) filters() ([]string, []any) {
	where := []string{`app = ?`}
	args := []any{q.App}
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if !q.Since.IsZero() {
		add(`time >= ?`, nanos(q.Since))
	}
	if !q.Until.IsZero() {
		add(`time < ?`, nanos(q.Until))
	}
	if q.Source != "" {
		add(`source = ?`, q.Source)
	}
	if q.Dyno != "" {
		add(`dyno = ?`, q.Dyno)
	}
	if q.Malformed != nil {
		add(`malformed = ?`, *q.Malformed)
	}
	return where, args
}

// fewMatches is the number of matching lines (of all apps) under which Search
// fetches the matches by id rather than walking the app's lines newest first;
// see BenchmarkSearch.
const fewMatches = 5000

// countMatches counts the lines of all apps that match, up to fewMatches. It
// also parses the query against the index alone: the search itself may never
// evaluate it (an app with no lines), and a bad query must be reported the
// same way whatever the data.
func (a *Archive) countMatches(ctx context.Context, match string) (int, error) {
	var n int
	err := a.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT rowid FROM lines_fts WHERE lines_fts MATCH ? LIMIT ?)`,
		match, fewMatches).Scan(&n)
	if err != nil {
		return 0, badQuery(err)
	}
	return n, nil
}

// cursor returns the condition that keeps the lines after line id in
// newest-first order.
func (a *Archive) cursor(ctx context.Context, id int64) (string, []any, error) {
	var t int64
	err := a.r.QueryRowContext(ctx, `SELECT time FROM lines WHERE id = ?`, id).Scan(&t)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return `id < ?`, []any{id}, nil
	case err != nil:
		return "", nil, fmt.Errorf("read cursor: %w", err)
	}
	return `(time, id) < (?, ?)`, []any{t, id}, nil
}

// badQuery turns the error SQLite gives for an invalid MATCH into ErrBadQuery.
// The statement itself is fixed and tested, so a plain SQL error from it comes
// from the user's query.
func badQuery(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_ERROR {
		return err
	}
	msg := se.Error()
	// modernc prefixes the generic "SQL logic error: " and appends " (1)".
	msg = strings.TrimPrefix(msg, "SQL logic error: ")
	msg = strings.TrimSuffix(msg, " (1)")
	msg = strings.TrimPrefix(msg, "fts5: ")
	return fmt.Errorf("%w: %s", ErrBadQuery, msg)
}

// Tail returns the newest n lines of app by arrival, oldest first, like the
// end of `heroku logs -n`.
func (a *Archive) Tail(ctx context.Context, app string, n int) ([]Line, error) {
	if n <= 0 {
		return nil, nil
	}
	lines, err := a.query(ctx, selectLines+` WHERE app = ? ORDER BY id DESC LIMIT ?`, app, n)
	slices.Reverse(lines)
	return lines, err
}

// After returns up to limit lines of app with IDs greater than afterID, oldest
// first: the next lines for a follower.
func (a *Archive) After(ctx context.Context, app string, afterID int64, limit int) ([]Line, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	return a.query(ctx, selectLines+` WHERE app = ? AND id > ? ORDER BY id LIMIT ?`, app, afterID, limit)
}

// query runs a selectLines query on the read-only pool.
func (a *Archive) query(ctx context.Context, query string, args ...any) ([]Line, error) {
	rows, err := a.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query lines: %w", err)
	}
	defer rows.Close()
	var lines []Line
	for rows.Next() {
		var l Line
		var t, recv int64
		var prio int64
		if err := rows.Scan(&l.ID, &l.App, &l.Drain, &t, &recv, &prio, &l.Host, &l.Source,
			&l.Dyno, &l.MsgID, &l.StructuredData, &l.Message, &l.Malformed); err != nil {
			return nil, fmt.Errorf("read line: %w", err)
		}
		l.Time, l.Received, l.Priority = fromNanos(t), fromNanos(recv), int(prio)
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read lines: %w", err)
	}
	return lines, nil
}
