package query

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe/archive"
)

// Row is one result row of a LogsQL query: its fields, and its _time.
type Row struct {
	Time   int64
	Fields []logstorage.Field
}

// Newest calls each with the k result rows of q with the biggest _time, newest
// first: what VictoriaLogs' `| sort by (_time) desc | limit k` gives, without
// reading the whole time range. q must keep _time through its pipes
// (Query.CanReturnLastNResults). It reads windows back from the end of q's
// range, each four times as long as the one before, and in each asks for the
// newest rows still missing; the rows of a window are all older than those of
// the windows after it, and are handed on before the next is read, so what is
// held is one window's (within the engine's sort budget), however many k.
// hidden are fields to leave out (hidden_fields_filters).
func (r *Reader) Newest(ctx context.Context, q *logstorage.Query, k int, hidden []string, each func(Row) error) error {
	lo, hi := q.GetFilterTimeRange()
	lo, hi, ok := r.dataBounds(lo, hi)
	sent := 0
	for span := firstWindow; ok && sent < k; {
		wlo := lo
		if uint64(hi)-uint64(lo) >= uint64(span) {
			wlo = hi - span + 1
		}
		rows, err := r.newestIn(ctx, q, wlo, hi, k-sent, hidden)
		if archive.IsOverBudget(err) && wlo < hi {
			// More rows than the engine's sort can hold (wide lines, or
			// many): the same end, a window of fewer rows.
			span = max((hi-wlo+1)/4, 1)
			continue
		}
		if err != nil {
			return err
		}
		for _, row := range rows {
			if err := each(row); err != nil {
				return err
			}
		}
		sent += len(rows)
		if wlo <= lo {
			break
		}
		hi = wlo - 1
		span = min(span*4, maxNanos/2)
	}
	return nil
}

// newestIn returns the n rows of q in [lo, hi] with the biggest _time, newest
// first. In one nanosecond every row has the same _time, so any n are the
// newest: they are taken as they come, with no sort, whose budget thousands of
// wide rows stamped with one time (a batch whose lines had none of their own)
// can pass, and which no smaller window can split.
func (r *Reader) newestIn(ctx context.Context, q *logstorage.Query, lo, hi int64, n int, hidden []string) ([]Row, error) {
	wq := q.CloneWithTimeFilter(q.GetTimestamp(), lo, hi)
	pipe := "sort by (_time desc) limit"
	if lo == hi {
		pipe = "limit"
	}
	wq, err := logstorage.ParseQueryAtTimestamp(fmt.Sprintf("%s | %s %d", wq, pipe, n), q.GetTimestamp())
	if err != nil {
		return nil, fmt.Errorf("newest rows of %s: %w", q, err)
	}
	var mu sync.Mutex
	var rows []Row
	var bad error
	write := func(_ uint, db *logstorage.DataBlock) {
		times, ok := db.GetTimestamps(nil)
		mu.Lock()
		defer mu.Unlock()
		if !ok {
			bad = fmt.Errorf("the rows of %s have no _time", q)
			return
		}
		cols := db.GetColumns(false)
		for i, ts := range times {
			f := make([]logstorage.Field, len(cols))
			for j := range cols {
				f[j] = logstorage.Field{Name: strings.Clone(cols[j].Name), Value: strings.Clone(cols[j].Values[i])}
			}
			rows = append(rows, Row{Time: ts, Fields: f})
		}
	}
	if err := r.run(ctx, wq, hidden, write); err != nil {
		return nil, err
	}
	if bad != nil {
		return nil, bad
	}
	slices.SortStableFunc(rows, func(a, b Row) int {
		switch {
		case a.Time > b.Time:
			return -1
		case a.Time < b.Time:
			return 1
		}
		return 0
	})
	return rows, nil
}
