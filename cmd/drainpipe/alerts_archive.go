package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/archive"
)

// journalSlack bounds how long an accepted batch can wait between its received time
// and its journal message: the receiver gives the journal 4 s (httpd's
// AppendTimeout) and answers 503 past that.
const journalSlack = 5 * time.Second

// archivePage is how many lines one archive query reads while counting.
const archivePage = 10000

// archiveSearcher lets alert rules read the archive through archive.Search, the
// same call (same selection: app, line time, query) as `drainpipe search`, so a
// rule counts exactly the lines that search shows. It counts by reading a window's
// matching lines page by page: windows of alert rules hold few.
type archiveSearcher struct {
	arc  *archive.Archive
	apps func() []string                              // every app, for rules over all apps
	lag  func(context.Context) (time.Duration, error) // the archive consumer's journal lag
	now  func() time.Time
	// translate reads a query as `drainpipe search` does before the archive
	// sees it; nil passes it as it is (LogsQL).
	translate func(string) (string, error)

	mu   sync.Mutex
	last time.Time // the watermark never goes back
}

var (
	_ alert.Searcher     = (*archiveSearcher)(nil)
	_ alert.QueryChecker = (*archiveSearcher)(nil)
)

// Watermark: the archive acknowledges a journal message once its lines are
// stored and searchable, so every message older than the oldest one it has not acknowledged
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

// CheckQuery parses a query as the archive will.
func (a *archiveSearcher) CheckQuery(_ context.Context, q string) error {
	q, err := a.query(q)
	if err != nil {
		return err
	}
	_, err = archive.ParseQuery(q, a.now())
	return err
}

// query is q as the archive reads it.
func (a *archiveSearcher) query(q string) (string, error) {
	if a.translate == nil {
		return q, nil
	}
	return a.translate(q)
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
	match, err := a.query(s.Query)
	if err != nil {
		return err
	}
	q := archive.Query{App: app, Match: match, Since: s.Start, Until: s.End, Limit: archivePage}
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

// lineField is a line's field as the archive stores it: its own (app, source,
// dyno, host, drain, msgid), a field of its message (code, status, msg.dyno), or
// an attribute its sender gave.
func lineField(l archive.Line, f string) string {
	switch f {
	case archive.FieldApp:
		return l.App
	case archive.FieldSource:
		return l.Source
	case archive.FieldDyno:
		return l.Dyno
	case archive.FieldHost:
		return l.Host
	case archive.FieldDrain:
		return l.Drain
	case archive.FieldMsgID:
		return l.MsgID
	}
	for _, kv := range l.Fields {
		if kv.Key == f {
			return kv.Value
		}
	}
	for _, kv := range l.Attrs {
		if kv.Key == f {
			return kv.Value
		}
	}
	return ""
}
