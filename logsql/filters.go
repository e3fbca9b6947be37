package logsql

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
)

// Search is a search as the command line and the admin API take it: what the
// user typed, narrowed by app, source, dyno and time.
type Search struct {
	// App keeps the lines of one app; empty keeps every app's.
	App string
	// Source keeps the lines of one source: "app" or "heroku"; empty keeps all.
	Source string
	// Dyno keeps one dyno's lines (web.1), or every dyno of a process type (web); see Dyno.
	Dyno string
	// Since and Until keep the lines with Since ≤ time < Until; a zero bound is
	// open. A line the archive stamped with the time it was received (its own
	// time was one the storage cannot take) is kept by its own time.
	Since, Until time.Time
	// Text is what the user typed; see Translate.
	Text string
}

// Query parses s into a LogsQL query: the translation of s.Text, with the app,
// source, dyno and time filters added to it (and to its subqueries). Relative
// times in the text (_time:1h) are read at now. An error wraps ErrBadQuery.
func (s Search) Query(now time.Time) (*logstorage.Query, error) {
	text, err := Translate(s.Text)
	if err != nil {
		return nil, err
	}
	q, err := logstorage.ParseQueryAtTimestamp(text, now.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	if f := s.filters(); f != "" {
		extra, err := logstorage.ParseFilter(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadQuery, err)
		}
		q.AddExtraFilters(extra)
	}
	if !s.Since.IsZero() || !s.Until.IsZero() {
		start, end := TimeBounds(s.Since, s.Until)
		q.AddTimeFilter(start, end)
	}
	return q, nil
}

// Filter is s's text, source and dyno as one LogsQL filter, for matching lines
// one by one (a follower's); the text may not hold pipes. App and times are
// left out. An error wraps ErrBadQuery.
func (s Search) Filter(now time.Time) (*logstorage.Filter, error) {
	q, err := Search{Source: s.Source, Dyno: s.Dyno, Text: s.Text}.Query(now)
	if err != nil {
		return nil, err
	}
	f, err := logstorage.ParseFilterAtTimestamp(q.String(), now.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	return f, nil
}

// filters is the LogsQL of the app, source and dyno filters, "" when none.
func (s Search) filters() string {
	var parts []string
	if s.App != "" {
		parts = append(parts, App(s.App))
	}
	if s.Source != "" {
		parts = append(parts, Source(s.Source))
	}
	if s.Dyno != "" {
		parts = append(parts, Dyno(s.Dyno))
	}
	return strings.Join(parts, " ")
}

// TimeBounds returns the inclusive nanosecond bounds of since ≤ t < until that
// logstorage.Query.AddTimeFilter takes; a zero time is an open bound.
func TimeBounds(since, until time.Time) (start, end int64) {
	start, end = minNanos, maxNanos
	if !since.IsZero() {
		start = nanos(since)
	}
	if !until.IsZero() {
		end = nanos(until) - 1
	}
	return start, end
}

const (
	minNanos = -1 << 63
	maxNanos = 1<<63 - 1
)

// nanos is t in Unix nanoseconds, clamped to what an int64 holds.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, minNanos)):
		return minNanos
	case t.After(time.Unix(0, maxNanos)):
		return maxNanos
	}
	return t.UnixNano()
}

// App is the filter of one app's lines. It is a field filter, not a stream
// filter ({app="..."}): the archive finds every row by it even if a crash cost a
// stream its index entry. The app's value is the same in every row of a block,
// so the engine checks it once a block.
func App(app string) string {
	return Exact(FieldApp, app)
}

// Source is the filter of one source's lines, as `heroku logs --source`: "app"
// for the app's own output, "heroku" for the platform's, in any case (Heroku
// writes them in lower case); any other name (log-shuttle's, a syslog
// sender's APP-NAME) exactly as written.
func Source(source string) string {
	for _, s := range []string{"app", "heroku"} {
		if strings.EqualFold(source, s) {
			source = s
		}
	}
	return Exact(FieldSource, source)
}

// Dyno is the filter of `--dyno`, as `heroku logs --dyno`: a dyno name with a
// number (web.1) keeps that dyno's lines; a name without one keeps every dyno of
// that process type (web: web.1, web.2 ...) and the lines of a dyno named so
// exactly (router, api).
func Dyno(dyno string) string {
	if strings.Contains(dyno, ".") {
		return Exact(FieldDyno, dyno)
	}
	return "(" + Exact(FieldDyno, dyno) + " OR " + Field(FieldDyno) + ":=" + strconv.Quote(dyno+".") + "*)"
}
