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
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/logsql"
)

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

// Searcher is the archive as alert rules read it: it counts with the engine's
// stats, and reads the few lines a notification shows.
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

// Count counts the lines of each group with the engine's stats: one pass over
// the window, however many lines it holds (a busy app's minute holds hundreds
// of thousands; reading them page by page was slow, and a page the engine's
// sort budget cut short was taken for the last one).
func (a *Searcher) Count(ctx context.Context, s alert.Search, groupBy []string, limit int) ([]alert.GroupCount, int, error) {
	counts := map[string]*alert.GroupCount{}
	if len(groupBy) == 0 {
		counts[""] = &alert.GroupCount{}
	}
	for _, app := range a.appsOf(s) {
		if err := a.countApp(ctx, app, s, groupBy, counts); err != nil {
			return nil, 0, err
		}
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

// countColumn names the count in Count's stats; a name no field of a line has.
const countColumn = "drainpipe.alert.count"

// countApp adds app's lines that s selects to counts, by the values of groupBy.
func (a *Searcher) countApp(ctx context.Context, app string, s alert.Search, groupBy []string, counts map[string]*alert.GroupCount) error {
	filter, err := filterOf(app, s)
	if err != nil {
		return err
	}
	by := make([]string, len(groupBy))
	for i, f := range groupBy {
		by[i] = logsql.Field(f)
	}
	q, err := archive.ParseQuery(fmt.Sprintf("%s | stats by (%s) count() as %s", filter, strings.Join(by, ", "), logsql.Field(countColumn)), a.now())
	if err != nil {
		return err
	}
	q.AddTimeFilter(logsql.TimeBounds(s.Start, s.End)) // Start ≤ _time < End, as Search reads it
	err = a.arc.Query(ctx, q, func(cols []logstorage.BlockColumn) error {
		return addCounts(cols, groupBy, counts)
	})
	if archive.IsOverBudget(err) {
		return fmt.Errorf("count %s by %s: more groups in one window than a query may hold in memory; group by fewer or less varied fields: %w",
			app, strings.Join(groupBy, ","), err)
	}
	if err != nil {
		return fmt.Errorf("count %s: %w", app, err)
	}
	return nil
}

// addCounts adds the rows of Count's stats (a column per groupBy field, then
// the count) to counts.
func addCounts(cols []logstorage.BlockColumn, groupBy []string, counts map[string]*alert.GroupCount) error {
	var n []string
	values := make([][]string, len(groupBy))
	for _, c := range cols {
		if c.Name == countColumn {
			n = c.Values
		}
		for i, f := range groupBy {
			if c.Name == f {
				values[i] = c.Values
			}
		}
	}
	for row := range n {
		count, err := strconv.ParseInt(n[row], 10, 64)
		if err != nil {
			return fmt.Errorf("count %q: %w", n[row], err)
		}
		group := make([]string, len(groupBy))
		for i, v := range values {
			if v != nil {
				group[i] = strings.Clone(v[row])
			}
		}
		k := strings.Join(group, "\x00")
		if counts[k] == nil {
			counts[k] = &alert.GroupCount{Values: group}
		}
		counts[k].Count += count
	}
	return nil
}

// Sample returns the newest n lines.
func (a *Searcher) Sample(ctx context.Context, s alert.Search, n int) ([]alert.Line, error) {
	var lines []archive.Line
	for _, app := range a.appsOf(s) {
		got := 0
		err := a.page(ctx, app, s, n, func(l archive.Line) bool {
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

func (a *Searcher) appsOf(s alert.Search) []string {
	if s.App != "" {
		return []string{s.App}
	}
	return a.apps()
}

// page reads app's lines that s selects, newest first, in pages of at most
// size lines, until fn says stop or there are no more. Only an empty page ends
// them: the archive answers a page shorter than asked when the engine's sort
// cannot hold it whole.
func (a *Searcher) page(ctx context.Context, app string, s alert.Search, size int, fn func(archive.Line) bool) error {
	match, err := matchOf(s)
	if err != nil {
		return err
	}
	q := archive.Query{App: app, Match: match, Since: s.Start, Until: s.End, Limit: size}
	for {
		lines, err := a.arc.Search(ctx, q)
		if err != nil {
			return fmt.Errorf("search %s: %w", app, err)
		}
		if len(lines) == 0 {
			return nil
		}
		for _, l := range lines {
			if !fn(l) {
				return nil
			}
		}
		q.Before = lines[len(lines)-1].ID
	}
}

// matchOf is the LogsQL filter of s's query and fields: a group's fields are
// exact matches ("" matches a line without the field too, as in the group
// counted).
func matchOf(s alert.Search) (string, error) {
	match, err := query(s.Query)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if match != "" {
		b.WriteString("(" + match + ")")
	}
	for _, f := range slices.Sorted(maps.Keys(s.Fields)) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(logsql.Exact(f, s.Fields[f]))
	}
	return b.String(), nil
}

// filterOf is the LogsQL filter of app's lines that s selects.
func filterOf(app string, s alert.Search) (string, error) {
	match, err := matchOf(s)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(logsql.App(app) + " " + match), nil
}
