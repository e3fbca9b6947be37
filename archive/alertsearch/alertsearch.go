// Package alertsearch lets alert rules read the archive (alert.Searcher): a
// window's lines counted by group and sampled, selected as `drainpipe search` and
// the search API select them (what the user typed read by logsql.Translate, then
// archive.Search), and the watermark before which every received line is
// searchable.
package alertsearch

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
	"github.com/drainpipe/drainpipe/logsql"
)

// archivePage is how many lines one archive query reads while counting.
const archivePage = 10000

// Config is what a Searcher reads.
type Config struct {
	// Archive holds the lines.
	Archive *archive.Archive
	// Apps lists every app, for rules over all apps.
	Apps func() []string
	// Lag is the archive consumer's journal lag: the age of the oldest journal
	// message it has not acknowledged.
	Lag func(context.Context) (time.Duration, error)
	// Slack bounds how long an accepted batch can wait between its received time
	// and its journal message (the receiver's journal timeout, and a little more).
	Slack time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Searcher is the archive as alert rules read it. It counts by reading a window's
// matching lines page by page: windows of alert rules hold few.
type Searcher struct {
	arc   *archive.Archive
	apps  func() []string
	lag   func(context.Context) (time.Duration, error)
	slack time.Duration
	now   func() time.Time

	mu   sync.Mutex
	last time.Time // the watermark never goes back
}

var (
	_ alert.Searcher     = (*Searcher)(nil)
	_ alert.QueryChecker = (*Searcher)(nil)
)

// New returns a Searcher over cfg.Archive.
func New(cfg Config) *Searcher {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Searcher{arc: cfg.Archive, apps: cfg.Apps, lag: cfg.Lag, slack: cfg.Slack, now: cfg.Now}
}

// Watermark: the archive acknowledges a journal message once its lines are
// stored and searchable, so every message older than the oldest one it has not
// acknowledged (its lag) is applied; a batch received before then, less the slack,
// is in one of them.
func (a *Searcher) Watermark(ctx context.Context) (time.Time, error) {
	lag, err := a.lag(ctx)
	if err != nil {
		return time.Time{}, err
	}
	w := a.now().Add(-lag - a.slack)
	a.mu.Lock()
	defer a.mu.Unlock()
	if w.Before(a.last) {
		w = a.last
	}
	a.last = w
	return w, nil
}

// Count counts the lines of each group.
func (a *Searcher) Count(ctx context.Context, s alert.Search, groupBy []string, limit int) ([]alert.GroupCount, int, error) {
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
func (a *Searcher) Sample(ctx context.Context, s alert.Search, n int) ([]alert.Line, error) {
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
func (a *Searcher) CheckQuery(_ context.Context, q string) error {
	q, err := query(q)
	if err != nil {
		return err
	}
	_, err = archive.ParseQuery(q, a.now())
	return err
}

// query is what the user typed as the archive reads it: LogsQL, with Heroku's
// words (status=503, web.1) translated as `drainpipe search` translates them. A
// query that cannot be read wraps archive.ErrBadQuery.
func query(typed string) (string, error) {
	q, err := logsql.Translate(typed)
	if err != nil {
		return "", fmt.Errorf("%w: %w", archive.ErrBadQuery, err)
	}
	return q, nil
}

// each calls fn with every line s selects, in every app it names, until fn says stop.
func (a *Searcher) each(ctx context.Context, s alert.Search, fn func(archive.Line) bool) error {
	for _, app := range a.appsOf(s) {
		if err := a.page(ctx, app, s, fn); err != nil {
			return err
		}
	}
	return nil
}

func (a *Searcher) appsOf(s alert.Search) []string {
	if s.App != "" {
		return []string{s.App}
	}
	return a.apps()
}

// page reads app's lines that s selects, newest first, page by page.
func (a *Searcher) page(ctx context.Context, app string, s alert.Search, fn func(archive.Line) bool) error {
	match, err := query(s.Query)
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
