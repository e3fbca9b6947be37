package archive

import (
	"cmp"
	"context"
	"fmt"
	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"math"
	"slices"
	"strconv"
	"time"
)

// DefaultLimit is the number of lines Search returns when Query.Limit is not positive.
const DefaultLimit = 100

// Query selects lines of one app for Search.
type Query struct {
	// App is the app whose lines are searched; required.
	App string
	// Match is a LogsQL filter: words (H12) match whole words of the message,
	// case-sensitively; H12 OR R14, "a phrase", prefix*, status:=503,
	// dyno:web.1, i(timeout) for any case ... (see the README). "" matches every line.
	Match string
	// Since and Until bound the line's _time: Since ≤ _time < Until. Zero is open.
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
	// so paging neither repeats nor skips a line. When that line is gone
	// (retention), it returns the lines with IDs below Before.
	Before int64
}

// Search returns up to q.Limit lines of q.App that match q, newest first: by
// _time, then by ID. A Match that is not valid LogsQL returns an error
// wrapping ErrBadQuery.
func (a *Archive) Search(ctx context.Context, q Query) ([]Line, error) {
	if q.App == "" {
		return nil, fmt.Errorf("%w: no app given", ErrBadQuery)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	tr := a.dataRange()
	if t, ok := nanos(q.Since); ok {
		tr.start = max(tr.start, t)
	}
	if t, ok := nanos(q.Until); ok {
		tr.end = min(tr.end, t-1)
	}
	if tr.start > tr.end {
		return nil, nil
	}
	filter := and(appFilter(q.App), fieldIs(FieldSource, q.Source), fieldIs(FieldDyno, q.Dyno))
	if q.Malformed != nil {
		if *q.Malformed {
			filter = and(filter, FieldMalformed+":=1")
		} else {
			filter = and(filter, FieldMalformed+`:""`)
		}
	}
	if q.Match != "" {
		// Check the user's part alone, so a mistake is reported as theirs: a
		// filter, not a query with pipes.
		if _, err := logstorage.ParseFilter(q.Match); err != nil {
			return nil, fmt.Errorf("%w: %s", ErrBadQuery, err)
		}
		filter = and(filter, "("+q.Match+")")
	}
	if q.Before > 0 {
		t, found, err := a.timeOf(ctx, q.Before)
		if err != nil {
			return nil, err
		}
		cursor := FieldID + ":<" + strconv.FormatInt(q.Before, 10)
		if found {
			tr.end = min(tr.end, t)
			cursor = "(" + FieldTime + ":<" + time.Unix(0, t).UTC().Format(time.RFC3339Nano) + " or " + cursor + ")"
		}
		filter = and(filter, cursor)
	}
	return a.newest(ctx, filter, tr, limit)
}

// fieldIs is the filter "field is exactly v", or none when v is empty.
func fieldIs(field, v string) string {
	if v == "" {
		return ""
	}
	return field + ":=" + quote(v)
}

// dataRange is the _time range the storage holds rows in (from its parts'
// headers), so that newest's first window ends at the newest row.
func (a *Archive) dataRange() timeRange {
	ss := a.store.stats()
	if ss.MinTimestamp == math.MinInt64 || ss.MaxTimestamp == math.MaxInt64 || ss.MinTimestamp > ss.MaxTimestamp {
		return allTime()
	}
	return timeRange{ss.MinTimestamp, ss.MaxTimestamp}
}

// timeOf returns the _time of the line with id.
func (a *Archive) timeOf(ctx context.Context, id int64) (int64, bool, error) {
	var t int64
	found := false
	err := a.queryString(ctx, FieldID+":="+strconv.FormatInt(id, 10)+" | fields "+FieldTime+" | limit 1", allTime(),
		func(cols columns) error {
			for _, v := range cols.get(FieldTime) {
				pt, err := parseTime(v)
				if err != nil {
					return err
				}
				t, found = pt.UnixNano(), true
			}
			return nil
		})
	return t, found, err
}

// newest returns the limit newest lines matching filter in tr, newest first
// (fewer when they are too wide for the engine's sort to hold that many).
// It looks in the last minute first, and only if that holds fewer than limit
// lines, in all of tr: every line outside the minute is older than every line
// in it. A filter that many lines match (one dyno of a busy app) finds a page
// in the last minute instead of sorting hours of lines; one that few match (a
// rare word) costs one scan of tr's bloom filters and a minute's more.
func (a *Archive) newest(ctx context.Context, filter string, tr timeRange, limit int) ([]Line, error) {
	return fewerWhileOverBudget(limit, func(n int) ([]Line, error) { return a.newestUpTo(ctx, filter, tr, n) })
}

// fewerWhileOverBudget returns read(limit), or read of half as many lines, and
// half again, while the engine's sort cannot hold that many (wide lines, see
// IsOverBudget): a caller that wants the newest, or the next, lines then gets
// fewer and comes back for the rest.
func fewerWhileOverBudget(limit int, read func(limit int) ([]Line, error)) ([]Line, error) {
	for {
		lines, err := read(limit)
		if IsOverBudget(err) && limit > 1 {
			limit /= 2
			continue
		}
		return lines, err
	}
}

// newestUpTo is newest at exactly limit lines.
func (a *Archive) newestUpTo(ctx context.Context, filter string, tr timeRange, limit int) ([]Line, error) {
	q := filter + " | sort by (" + FieldTime + " desc, " + FieldID + " desc) limit " + strconv.Itoa(limit)
	minute := tr
	if tr.end-int64(time.Minute) > tr.start {
		minute.start = tr.end - int64(time.Minute)
	}
	var lines []Line
	for _, w := range []timeRange{minute, tr} {
		lines = lines[:0]
		err := a.queryString(ctx, q, w, func(cols columns) error {
			ls, err := LinesOf(cols)
			lines = append(lines, ls...)
			return err
		})
		if err != nil {
			return nil, err
		}
		if len(lines) >= limit || w.start == tr.start {
			break
		}
	}
	return lines, nil // in the sort pipe's order: by _time, then id
}

// Tail returns the newest n lines of app (by _time, then id), oldest first,
// like the end of `heroku logs -n`.
func (a *Archive) Tail(ctx context.Context, app string, n int) ([]Line, error) {
	if n <= 0 {
		return nil, nil
	}
	lines, err := a.newest(ctx, appFilter(app), a.dataRange(), n)
	slices.Reverse(lines)
	return lines, err
}

// After returns up to limit lines of app with IDs greater than afterID, by ID:
// the next lines for a follower. It returns only lines that were searchable
// when Wait last woke (every line of a Write is, at once), so a follower never
// passes over a line that becomes searchable after a higher one.
func (a *Archive) After(ctx context.Context, app string, afterID int64, limit int) ([]Line, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	published, _, _ := a.notify.state()
	if afterID >= published {
		return nil, nil
	}
	return fewerWhileOverBudget(limit, func(n int) ([]Line, error) { return a.after(ctx, app, afterID, published, n) })
}

// after is After's query: up to limit lines of app with ids in (afterID, published].
func (a *Archive) after(ctx context.Context, app string, afterID, published int64, limit int) ([]Line, error) {
	a.store.gate.RLock()
	defer a.store.gate.RUnlock()
	q := and(appFilter(app), FieldID+":>"+strconv.FormatInt(afterID, 10), FieldID+":<="+strconv.FormatInt(published, 10)) +
		" | sort by (" + FieldID + ") limit " + strconv.Itoa(limit)
	var lines []Line
	err := a.queryString(ctx, q, a.recent.rangeAfter(afterID), func(cols columns) error {
		ls, err := LinesOf(cols)
		lines = append(lines, ls...)
		return err
	})
	slices.SortFunc(lines, func(x, y Line) int { return cmp.Compare(x.ID, y.ID) })
	return lines, err
}
