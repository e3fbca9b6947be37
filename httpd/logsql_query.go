package httpd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/archive/query"
)

// vlQuery serves /select/logsql/query: the rows of a LogsQL query, one JSON
// object a line (or CSV with format=csv); with limit, the newest limit rows
// after offset, newest first.
func (s *Server) vlQuery(w http.ResponseWriter, r *http.Request) {
	a, err := vlParse(r)
	if err != nil {
		vlError(w, err)
		return
	}
	offset, err1 := vlInt(r, "offset")
	limit, err2 := vlInt(r, "limit")
	if err := errors.Join(err1, err2); err != nil {
		vlError(w, err)
		return
	}
	format := r.FormValue("format")
	if format != "" && format != "csv" {
		vlError(w, fmt.Errorf("unexpected format=%q; expecting 'csv' or ''", format))
		return
	}
	if limit > 0 {
		if a.q.CanReturnLastNResults() {
			a.q.AddPipeSortByTimeDesc()
		}
		a.q.AddPipeOffsetLimit(uint64(offset), uint64(limit))
	}
	ctype, header := "application/stream+json", []byte(nil)
	if format == "csv" {
		if header, err = s.csvFields(r.Context(), a); err != nil {
			vlError(w, err)
			return
		}
		ctype = "text/csv"
	}
	started := time.Now()
	out := &rowWriter{w: w, started: started, ctype: ctype, csv: format == "csv", sortFields: !a.q.IsFixedOutputFieldsOrder()}
	out.buf = append(out.buf, header...)
	if qOpt, off, n := a.q.GetLastNResultsQuery(); qOpt != nil {
		err = s.vlNewest(r.Context(), a, qOpt, int(off), int(n), out)
	} else {
		err = s.runQuery(s.qctx(r.Context(), a), out.writeBlock)
	}
	if err != nil {
		if !out.sent {
			vlError(w, fmt.Errorf("cannot execute query [%s]: %w", a.q, err))
			return
		}
		panic(http.ErrAbortHandler) // headers are out: cut the answer so it is not taken for whole
	}
	out.flush(true)
}

// vlNewest writes the n rows of qOpt with the biggest _time after the first off
// of them, newest first.
func (s *Server) vlNewest(ctx context.Context, a *vlArgs, qOpt *logstorage.Query, off, n int, out *rowWriter) error {
	skip := off
	return s.cfg.Reader.Newest(ctx, qOpt, off+n, a.hidden, func(row query.Row) error {
		if skip > 0 {
			skip--
			return nil
		}
		out.writeFields(row.Fields) // written out as the buffer fills: the rows are not all held
		return nil
	})
}

// csvFields is the CSV header of a's query, and adds the fields pipe that puts
// every row's values in its order: the query's fixed fields, else every field
// its lines have.
func (s *Server) csvFields(ctx context.Context, a *vlArgs) ([]byte, error) {
	fields, ok := a.q.GetFixedFields()
	if !ok {
		names, err := s.cfg.LogsQL.GetFieldNames(s.qctx(ctx, a), "")
		if err != nil {
			return nil, fmt.Errorf("cannot obtain field names for returning query results in csv format: %w", err)
		}
		for _, n := range names {
			fields = append(fields, n.Value)
		}
		slices.Sort(fields)
		a.q.AddPipeFields(fields)
	}
	var b []byte
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSV(b, f)
	}
	return append(b, '\n'), nil
}

// rowWriter writes result rows as JSON lines or CSV, from the engine's parallel
// workers, sending them in pieces of streamBuffer bytes.
type rowWriter struct {
	mu         sync.Mutex
	w          http.ResponseWriter
	started    time.Time
	ctype      string
	csv        bool
	sortFields bool
	buf        []byte
	sent       bool
	fields     []logstorage.Field
}

func (o *rowWriter) writeBlock(_ uint, db *logstorage.DataBlock) {
	cols := db.GetColumns(o.sortFields)
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range db.RowsCount() {
		o.fields = o.fields[:0]
		for _, c := range cols {
			o.fields = append(o.fields, logstorage.Field{Name: c.Name, Value: c.Values[i]})
		}
		o.appendRow(o.fields)
	}
	o.fields = o.fields[:0]
	o.flush(false)
}

// writeFields writes one row given as fields.
func (o *rowWriter) writeFields(fields []logstorage.Field) {
	if o.sortFields {
		slices.SortFunc(fields, func(a, b logstorage.Field) int { return strings.Compare(a.Name, b.Name) })
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.appendRow(fields)
	o.flush(false)
}

// appendRow adds a row: a JSON object of its fields with a value (an empty value
// is a missing field to VictoriaLogs), or a CSV line of every value.
func (o *rowWriter) appendRow(fields []logstorage.Field) {
	if o.csv {
		for i, f := range fields {
			if i > 0 {
				o.buf = append(o.buf, ',')
			}
			o.buf = appendCSV(o.buf, f.Value)
		}
		o.buf = append(o.buf, '\n')
		return
	}
	start := len(o.buf)
	o.buf = append(o.buf, '{')
	for _, f := range fields {
		if f.Value == "" {
			continue
		}
		if len(o.buf) > start+1 {
			o.buf = append(o.buf, ',')
		}
		o.buf = api.AppendJSONString(o.buf, f.Name)
		o.buf = append(o.buf, ':')
		o.buf = api.AppendJSONString(o.buf, f.Value)
	}
	if len(o.buf) == start+1 {
		o.buf = o.buf[:start] // a row with no value is no row
		return
	}
	o.buf = append(o.buf, "}\n"...)
}

// flush sends the rows gathered, when they are many or when last is set; the
// first piece carries the headers.
func (o *rowWriter) flush(last bool) {
	if !last && len(o.buf) < streamBuffer {
		return
	}
	if !o.sent {
		vlHeaders(o.w, o.ctype, o.started)
		o.w.WriteHeader(http.StatusOK)
		o.sent = true
	}
	_ = http.NewResponseController(o.w).SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	_, _ = o.w.Write(o.buf)
	o.buf = o.buf[:0]
}

// appendCSV appends a CSV field, quoted when it holds a quote, comma or newline.
func appendCSV(dst []byte, s string) []byte {
	if !strings.ContainsAny(s, "\",\n") {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	dst = append(dst, strings.ReplaceAll(s, `"`, `""`)...)
	return append(dst, '"')
}

// vlQueryTimeRange serves /select/logsql/query_time_range: the time range the
// query selects, with start and end applied.
func (s *Server) vlQueryTimeRange(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UnixNano()
	q, err := vlQueryArg(r, now)
	if err != nil {
		vlError(w, err)
		return
	}
	lo, hi := q.GetFilterTimeRange()
	has := lo != math.MinInt64 || hi != math.MaxInt64
	for _, b := range []struct {
		name string
		v    *int64
		open int64
	}{{"start", &lo, math.MinInt64}, {"end", &hi, math.MaxInt64}} {
		if *b.v != b.open {
			continue
		}
		t, ok, err := vlTime(r, b.name, now)
		if err != nil {
			vlError(w, err)
			return
		}
		if ok {
			*b.v = t
		}
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"start":%q,"end":%q,"hasTimeFilter":%t}`, rfc3339(lo), rfc3339(hi), has)
}

func rfc3339(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }
