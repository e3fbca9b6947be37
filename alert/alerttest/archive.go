// Package alerttest holds in-memory sources and destinations for testing alert
// rules: an archive and a metrics history that implement alert.Searcher and
// alert.MetricSource with the interfaces' semantics exactly (documented on each),
// and a destination that records what it is sent.
package alerttest

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/logfmt"
)

// Archive is an in-memory alert.Searcher. It implements the interface's contract:
//
//   - A line is searchable once its Received is before the watermark (Mark, default
//     the clock): Count and Sample never see a line that is not.
//   - A search selects the lines of its App (every app when "") with Start ≤ Time <
//     End that match its Query and whose fields equal its Fields.
//   - Fields are app, source, dyno and the logfmt pairs of the message (code=H12).
//   - Count returns one group per distinct value tuple of groupBy (none: one group,
//     with 0 lines too), the limit with the highest counts (ties by values), and how
//     many it left out.
//   - Sample returns the newest lines first (by time, then the latest added).
//
// Its query language is its own, small: "" matches every line; "a OR b" matches
// either side; a side is terms that must all match: a word the message contains
// (case-insensitively), a "quoted phrase", k=v, k:=v or k:v (field k equals v), or
// k=v*, k:v* (field k starts with v), as LogsQL and Heroku's words write them.
type Archive struct {
	// Mark is the watermark; nil uses time.Now. Set it before the Archive is in
	// use; SetMark changes it while it is.
	Mark func() time.Time
	// Err, when set, is returned by every call (an archive that is down).
	Err error

	mu    sync.Mutex
	lines []alert.Line
}

var _ alert.Searcher = (*Archive)(nil)

// Add stores lines; a zero Received is taken as the line's Time.
func (a *Archive) Add(lines ...alert.Line) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, l := range lines {
		if l.Received.IsZero() {
			l.Received = l.Time
		}
		a.lines = append(a.lines, l)
	}
}

// Watermark returns Mark().
func (a *Archive) Watermark(context.Context) (time.Time, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Err != nil {
		return time.Time{}, a.Err
	}
	return a.mark(), nil
}

// SetMark replaces Mark, safely while a search runs.
func (a *Archive) SetMark(mark func() time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.Mark = mark
}

func (a *Archive) mark() time.Time {
	if a.Mark != nil {
		return a.Mark()
	}
	return time.Now()
}

// Count counts the selected lines by group.
func (a *Archive) Count(_ context.Context, s alert.Search, groupBy []string, limit int) ([]alert.GroupCount, int, error) {
	lines, err := a.selectLines(s)
	if err != nil {
		return nil, 0, err
	}
	counts := map[string]*alert.GroupCount{}
	if len(groupBy) == 0 {
		counts[""] = &alert.GroupCount{}
	}
	for _, l := range lines {
		values := make([]string, len(groupBy))
		for i, f := range groupBy {
			values[i] = field(l, f)
		}
		k := strings.Join(values, "\x00")
		if counts[k] == nil {
			counts[k] = &alert.GroupCount{Values: values}
		}
		counts[k].Count++
	}
	out := make([]alert.GroupCount, 0, len(counts))
	for _, g := range counts {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(x, y alert.GroupCount) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), slices.Compare(x.Values, y.Values))
	})
	if len(out) > limit {
		return out[:limit], len(out) - limit, nil
	}
	return out, 0, nil
}

// Sample returns up to n selected lines, newest first.
func (a *Archive) Sample(_ context.Context, s alert.Search, n int) ([]alert.Line, error) {
	lines, err := a.selectLines(s)
	if err != nil {
		return nil, err
	}
	slices.Reverse(lines)
	slices.SortStableFunc(lines, func(x, y alert.Line) int { return y.Time.Compare(x.Time) })
	return lines[:min(n, len(lines))], nil
}

// selectLines returns the searchable lines s selects, in the order added.
func (a *Archive) selectLines(s alert.Search) ([]alert.Line, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Err != nil {
		return nil, a.Err
	}
	if strings.Count(s.Query, `"`)%2 != 0 {
		return nil, errors.New("unterminated quote")
	}
	mark := a.mark()
	var out []alert.Line
	for _, l := range a.lines {
		if !l.Received.Before(mark) || (s.App != "" && l.App != s.App) || l.Time.Before(s.Start) || !l.Time.Before(s.End) {
			continue
		}
		if !matches(s.Query, l) {
			continue
		}
		ok := true
		for f, v := range s.Fields {
			ok = ok && field(l, f) == v
		}
		if ok {
			out = append(out, l)
		}
	}
	return out, nil
}

// matches applies the fake's query language.
func matches(query string, l alert.Line) bool {
	if strings.TrimSpace(query) == "" {
		return true
	}
	for _, alt := range strings.Split(query, " OR ") {
		all := true
		for _, term := range terms(alt) {
			all = all && matchTerm(term, l)
		}
		if all {
			return true
		}
	}
	return false
}

// terms splits on spaces outside quotes.
func terms(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, c := range s {
		switch {
		case c == '"':
			quoted = !quoted
		case c == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(c)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func matchTerm(term string, l alert.Line) bool {
	term = strings.Replace(term, ":=", "=", 1)
	if i := strings.IndexAny(term, ":="); i > 0 && !strings.Contains(term[:i], " ") {
		k, v := term[:i], term[i+1:]
		got := field(l, k)
		if prefix, ok := strings.CutSuffix(v, "*"); ok {
			return got != "" && strings.HasPrefix(got, prefix)
		}
		return got == v
	}
	return strings.Contains(strings.ToLower(l.Message), strings.ToLower(term))
}

// field is a line's value of field f.
func field(l alert.Line, f string) string {
	switch f {
	case "app":
		return l.App
	case "source":
		return l.Source
	case "dyno":
		return l.Dyno
	}
	var v string
	logfmt.Scan(l.Message, func(k, val string) bool {
		if k == f {
			v = val
			return false
		}
		return true
	})
	return v
}
