package query

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe/api"
)

// Facets counts the lines of q and, for each field, the limit values the most
// lines have (with `| top`), most frequent first; the lines without the field
// count under the value "".
func (r *Reader) Facets(ctx context.Context, q *logstorage.Query, fields []string, limit int) (api.Facets, error) {
	var out api.Facets
	total, err := r.count(ctx, q)
	if err != nil {
		return out, err
	}
	out.Total = total
	out.Facets = []api.Facet{}
	for _, field := range fields {
		f, err := r.facet(ctx, q, field, limit)
		if err != nil {
			return api.Facets{}, err
		}
		var listed int64
		for _, v := range f.Values {
			listed += v.Count
		}
		f.Other = max(0, total-listed)
		out.Facets = append(out.Facets, f)
	}
	return out, nil
}

// count is the number of lines of q.
func (r *Reader) count(ctx context.Context, q *logstorage.Query) (int64, error) {
	cq, err := withPipes(q, "stats count() as n")
	if err != nil {
		return 0, err
	}
	rows, err := r.rows(ctx, cq)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	return strconv.ParseInt(rows[0][0], 10, 64)
}

// facet is field's limit most frequent values among the lines of q.
func (r *Reader) facet(ctx context.Context, q *logstorage.Query, field string, limit int) (api.Facet, error) {
	fq, err := withPipes(q, fmt.Sprintf("top %d by (%s) hits as n | fields %[2]s, n", limit, strconv.Quote(field)))
	if err != nil {
		return api.Facet{}, err
	}
	rows, err := r.rows(ctx, fq)
	if err != nil {
		return api.Facet{}, err
	}
	f := api.Facet{Field: field, Values: make([]api.FacetValue, 0, len(rows))}
	for _, row := range rows {
		n, err := strconv.ParseInt(row[1], 10, 64)
		if err != nil {
			return api.Facet{}, fmt.Errorf("facet %s: count %q: %w", field, row[1], err)
		}
		f.Values = append(f.Values, api.FacetValue{Value: row[0], Count: n})
	}
	slices.SortFunc(f.Values, func(a, b api.FacetValue) int {
		if a.Count != b.Count {
			return int(b.Count - a.Count)
		}
		return strings.Compare(a.Value, b.Value)
	})
	return f, nil
}

// rows runs q and returns its result rows, each its columns' values in order.
// For small results only (stats, top).
func (r *Reader) rows(ctx context.Context, q *logstorage.Query) ([][]string, error) {
	var mu sync.Mutex
	var rows [][]string
	write := func(_ uint, db *logstorage.DataBlock) {
		cols := db.GetColumns(false)
		mu.Lock()
		defer mu.Unlock()
		for i := range db.RowsCount() {
			row := make([]string, len(cols))
			for j := range cols {
				row[j] = strings.Clone(cols[j].Values[i])
			}
			rows = append(rows, row)
		}
	}
	if err := r.run(ctx, q, nil, write); err != nil {
		return nil, err
	}
	return rows, nil
}

// withPipes is q's filters followed by pipes, written in LogsQL; q's own pipes
// are dropped.
func withPipes(q *logstorage.Query, pipes string) (*logstorage.Query, error) {
	f := q.Clone(q.GetTimestamp())
	f.DropAllPipes()
	out, err := logstorage.ParseQueryAtTimestamp(f.String()+" | "+pipes, q.GetTimestamp())
	if err != nil {
		return nil, fmt.Errorf("pipes %q: %w", pipes, err)
	}
	return out, nil
}
