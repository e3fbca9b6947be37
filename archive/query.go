package archive

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
)

// ErrBadQuery means a query is not valid LogsQL. The error wrapping it says
// why, in a sentence fit for the user.
var ErrBadQuery = errors.New("bad search query")

// tenants is the one VictoriaLogs tenant drainpipe stores in.
var tenants = []logstorage.TenantID{{}}

// ParseQuery parses a LogsQL query; relative times in it (_time:1h) count back
// from now. An invalid query returns an error wrapping ErrBadQuery.
func ParseQuery(q string, now time.Time) (*logstorage.Query, error) {
	pq, err := logstorage.ParseQueryAtTimestamp(q, now.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadQuery, err)
	}
	return pq, nil
}

// Query runs q and calls fn with each block of result rows, one block at a
// time, as columns: every row has a value (maybe "") in each. The columns are
// valid only during the call. q's time range is its own (add one with
// q.AddTimeFilter). An error from fn stops the query and is returned. Rows are
// searchable a moment before Write returns; use After for a follower's view.
func (a *Archive) Query(ctx context.Context, q *logstorage.Query, fn func(cols []logstorage.BlockColumn) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var fnErr error
	qctx := logstorage.NewQueryContext(ctx, &logstorage.QueryStats{}, tenants, q, false, nil)
	err := a.store.st.RunQuery(qctx, func(_ uint, db *logstorage.DataBlock) {
		mu.Lock()
		defer mu.Unlock()
		if fnErr != nil || db.RowsCount() == 0 {
			return
		}
		if fnErr = fn(db.GetColumns(false)); fnErr != nil {
			cancel()
		}
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("query: %w", err)
	}
	return ctx.Err()
}

// NewQueryContext wraps q for the storage calls below (the ones a
// VictoriaLogs-compatible query API needs), in drainpipe's tenant.
func (a *Archive) NewQueryContext(ctx context.Context, q *logstorage.Query) *logstorage.QueryContext {
	return logstorage.NewQueryContext(ctx, &logstorage.QueryStats{}, tenants, q, false, nil)
}

// RunQuery is VictoriaLogs' Storage.RunQuery on the archive: writeBlock is
// called from several goroutines at once.
func (a *Archive) RunQuery(qctx *logstorage.QueryContext, writeBlock logstorage.WriteDataBlockFunc) error {
	return a.store.st.RunQuery(qctx, writeBlock)
}

// GetFieldNames is VictoriaLogs' Storage.GetFieldNames on the archive.
func (a *Archive) GetFieldNames(qctx *logstorage.QueryContext, filter string) ([]logstorage.ValueWithHits, error) {
	return a.store.st.GetFieldNames(qctx, filter)
}

// GetFieldValues is VictoriaLogs' Storage.GetFieldValues on the archive.
func (a *Archive) GetFieldValues(qctx *logstorage.QueryContext, field, filter string, limit uint64) ([]logstorage.ValueWithHits, error) {
	return a.store.st.GetFieldValues(qctx, field, filter, limit)
}

// GetStreamFieldNames is VictoriaLogs' Storage.GetStreamFieldNames on the archive.
func (a *Archive) GetStreamFieldNames(qctx *logstorage.QueryContext, filter string) ([]logstorage.ValueWithHits, error) {
	return a.store.st.GetStreamFieldNames(qctx, filter)
}

// GetStreamFieldValues is VictoriaLogs' Storage.GetStreamFieldValues on the archive.
func (a *Archive) GetStreamFieldValues(qctx *logstorage.QueryContext, field, filter string, limit uint64) ([]logstorage.ValueWithHits, error) {
	return a.store.st.GetStreamFieldValues(qctx, field, filter, limit)
}

// GetStreams is VictoriaLogs' Storage.GetStreams on the archive.
func (a *Archive) GetStreams(qctx *logstorage.QueryContext, limit uint64) ([]logstorage.ValueWithHits, error) {
	return a.store.st.GetStreams(qctx, limit)
}

// GetStreamIDs is VictoriaLogs' Storage.GetStreamIDs on the archive.
func (a *Archive) GetStreamIDs(qctx *logstorage.QueryContext, limit uint64) ([]logstorage.ValueWithHits, error) {
	return a.store.st.GetStreamIDs(qctx, limit)
}

// Lines runs q and calls fn with each result row as a Line (q must keep the
// fields a Line is made of: do not end it with a fields or stats pipe). Rows
// come in the order q gives them.
func (a *Archive) Lines(ctx context.Context, q *logstorage.Query, fn func(Line) error) error {
	return a.Query(ctx, q, func(cols []logstorage.BlockColumn) error {
		lines, err := LinesOf(cols)
		if err != nil {
			return err
		}
		for _, l := range lines {
			if err := fn(l); err != nil {
				return err
			}
		}
		return nil
	})
}

// columns is a block of result rows, by column name.
type columns []logstorage.BlockColumn

func (c columns) get(name string) []string {
	for i := range c {
		if c[i].Name == name {
			return c[i].Values
		}
	}
	return nil
}

// timeRange is a _time range in nanoseconds, both ends included.
type timeRange struct{ start, end int64 }

func allTime() timeRange { return timeRange{math.MinInt64, math.MaxInt64} }

// queryString parses and runs q over tr; see Query.
func (a *Archive) queryString(ctx context.Context, q string, tr timeRange, fn func(columns) error) error {
	pq, err := ParseQuery(q, time.Now())
	if err != nil {
		return err
	}
	if tr != allTime() {
		pq.AddTimeFilter(tr.start, tr.end)
	}
	return a.Query(ctx, pq, func(cols []logstorage.BlockColumn) error { return fn(cols) })
}

// quote makes s a LogsQL string literal.
func quote(s string) string { return strconv.Quote(s) }

// appFilter is the LogsQL filter for one app's lines. It is a field filter,
// not a stream filter ({app=...}): it finds every row even if a crash cost a
// stream its index entry (see the package doc).
func appFilter(app string) string { return FieldApp + ":=" + quote(app) }

// and joins LogsQL filters.
func and(filters ...string) string {
	var b strings.Builder
	for _, f := range filters {
		if f == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f)
	}
	return b.String()
}

// IsOverBudget reports whether err is the engine refusing a pipe whose state
// would pass its memory budget: a fifth of -memory.allowedBytes, which Open
// sets to Config.CacheBytes (12.8 MB at the default). A sort that keeps
// thousands of wide lines meets it; the readers then ask for fewer rows at once.
func IsOverBudget(err error) bool {
	return err != nil && strings.Contains(err.Error(), "since it requires more than")
}
