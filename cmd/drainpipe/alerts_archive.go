package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/logfmt"
)

// journalSlack bounds how long an accepted batch can wait between its received time
// and its journal message: the receiver gives the journal 4 s (httpd's
// AppendTimeout) and answers 503 past that.
const journalSlack = 5 * time.Second

// archivePage is how many lines one archive query reads while counting.
const archivePage = 10000

// archiveSearcher lets alert rules read the SQLite archive. It counts by reading the
// matching lines of the window page by page, which is fine for the windows of
// alert rules but will be replaced by the archive engine's own counts.
type archiveSearcher struct {
	arc  *archive.Archive
	apps func() []string                              // every app, for rules over all apps
	lag  func(context.Context) (time.Duration, error) // the archive consumer's journal lag
	now  func() time.Time

	mu   sync.Mutex
	last time.Time // the watermark never goes back
}

var (
	_ alert.Searcher     = (*archiveSearcher)(nil)
	_ alert.QueryChecker = (*archiveSearcher)(nil)
)

// Watermark: the archive acknowledges a journal message once its lines are
// committed, so every message older than the oldest one it has not acknowledged
// (its lag) is applied; a batch received before then, less journalSlack, is in one
// of them.
func (a *archiveSearcher) Watermark(ctx context.Context) (time.Time, error) {
	lag, err := a.lag(ctx)
	if err != nil {
		return time.Time{}, err
	}
	w := a.now().Add(-lag - journalSlack)
	a.mu.Lock()
	defer a.mu.Unlock()
	if w.Before(a.last) {
		w = a.last
	}
	a.last = w
	return w, nil
}

// Count counts the lines of each group.
func (a *archiveSearcher) Count(ctx context.Context, s alert.Search, groupBy []string, limit int) ([]alert.GroupCount, int, error) {
	counts := map[string]*alert.GroupCount{}
	if len(groupBy) == 0 {
		counts[""] = &alert.GroupCount{}
	}
	err := a.each(ctx, s, func(l archive.Line) bool {
		values := make([]string, len(groupBy))
		for i, f := range groupBy {
			values[i] = lineField(l, f)
		}
		k := strings.Join(values, "\x00")
		if counts[k] == nil {
			counts[k] = &alert.GroupCount{Values: values}
		}
		counts[k].Count++
		return true
	})
	if err != nil {
		return nil, 0, err
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

// Sample returns the newest n lines.
func (a *archiveSearcher) Sample(ctx context.Context, s alert.Search, n int) ([]alert.Line, error) {
	var lines []archive.Line
	for _, app := range a.appsOf(s) {
		got := 0
		err := a.page(ctx, app, s, func(l archive.Line) bool {
			lines = append(lines, l)
			got++
			return got < n
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(lines, func(x, y archive.Line) int { return cmp.Or(y.Time.Compare(x.Time), cmp.Compare(y.ID, x.ID)) })
	out := make([]alert.Line, 0, n)
	for _, l := range lines[:min(n, len(lines))] {
		out = append(out, alert.Line{Time: l.Time, Received: l.Received, App: l.App, Source: l.Source, Dyno: l.Dyno, Message: l.Message})
	}
	return out, nil
}

// CheckQuery parses a query against the index alone.
func (a *archiveSearcher) CheckQuery(ctx context.Context, q string) error {
	_, err := a.arc.Search(ctx, archive.Query{App: "\x00", Match: ftsQuery(q), Limit: 1})
	if errors.Is(err, archive.ErrBadQuery) {
		return err
	}
	return nil
}

// each calls fn with every line s selects, in every app it names, until fn says stop.
func (a *archiveSearcher) each(ctx context.Context, s alert.Search, fn func(archive.Line) bool) error {
	for _, app := range a.appsOf(s) {
		if err := a.page(ctx, app, s, fn); err != nil {
			return err
		}
	}
	return nil
}

func (a *archiveSearcher) appsOf(s alert.Search) []string {
	if s.App != "" {
		return []string{s.App}
	}
	return a.apps()
}

// page reads app's lines that s selects, newest first, page by page.
func (a *archiveSearcher) page(ctx context.Context, app string, s alert.Search, fn func(archive.Line) bool) error {
	q := archive.Query{App: app, Match: ftsQuery(s.Query), Since: s.Start, Until: s.End, Limit: archivePage}
	for {
		lines, err := a.arc.Search(ctx, q)
		if err != nil {
			return fmt.Errorf("search %s: %w", app, err)
		}
		for _, l := range lines {
			if matchFields(l, s.Fields) && !fn(l) {
				return nil
			}
		}
		if len(lines) < archivePage {
			return nil
		}
		q.Before = lines[len(lines)-1].ID
	}
}

func matchFields(l archive.Line, fields map[string]string) bool {
	for f, v := range fields {
		if lineField(l, f) != v {
			return false
		}
	}
	return true
}

// lineField is a line's own field (app, source, dyno, host, drain) or a logfmt
// field of its message.
func lineField(l archive.Line, f string) string {
	switch f {
	case "app":
		return l.App
	case "source":
		return l.Source
	case "dyno":
		return l.Dyno
	case "host":
		return l.Host
	case "drain":
		return l.Drain
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

// ftsQuery reads the Heroku-style words of an alert query into FTS5 syntax, for the
// SQLite archive: a word FTS5 takes as it is (H12, OR, "a phrase", prefix*) stays
// as it is, so such a query finds exactly what `drainpipe search` finds; a word
// FTS5 would refuse (code=H12, web.1, /slow) becomes the phrase of its tokens
// ("code H12"), with a trailing * kept as a prefix ("code H"*).
func ftsQuery(q string) string {
	var out []string
	for _, tok := range queryTokens(q) {
		switch {
		case tok == "OR" || tok == "AND" || tok == "NOT" || tok == "(" || tok == ")" || strings.HasPrefix(tok, `"`):
			out = append(out, tok)
		default:
			out = append(out, ftsWord(tok))
		}
	}
	return strings.Join(out, " ")
}

// queryTokens splits on spaces and parentheses outside quotes.
func queryTokens(q string) []string {
	var toks []string
	var cur strings.Builder
	quoted := false
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	for _, c := range q {
		switch {
		case c == '"':
			if quoted {
				cur.WriteRune(c)
				quoted = false
				flush()
				continue
			}
			flush()
			quoted = true
			cur.WriteRune(c)
		case quoted:
			cur.WriteRune(c)
		case unicode.IsSpace(c):
			flush()
		case c == '(' || c == ')':
			flush()
			toks = append(toks, string(c))
		default:
			cur.WriteRune(c)
		}
	}
	if quoted {
		cur.WriteRune('"') // close an unterminated phrase rather than refuse it
	}
	flush()
	return toks
}

// ftsWord turns one word into a bareword or a phrase of its tokens.
func ftsWord(w string) string {
	prefix := strings.HasSuffix(w, "*")
	w = strings.TrimRight(w, "*")
	words := strings.FieldsFunc(w, func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsDigit(c) && c != '_' })
	if len(words) == 0 {
		return `""`
	}
	star := ""
	if prefix {
		star = "*"
	}
	if len(words) == 1 && words[0] == w {
		return w + star
	}
	return `"` + strings.Join(words, " ") + `"` + star
}
