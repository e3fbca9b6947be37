package httpd

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
)

// maxTailRows caps the rows one refresh of a live tail holds: a query that
// matches more than this in a few seconds is cut off with a sentence saying so.
const maxTailRows = 200_000

// vlTail serves /select/logsql/tail: the query's new rows as they come, one
// JSON object a line, for as long as the client reads. Every refresh_interval
// (1s) it reads the rows of [now-offset-refresh-5s, now-offset] (offset 5s
// leaves time for the rows to become searchable; the first read goes back
// start_offset, 5s) and writes those of each stream newer than the last it wrote.
func (s *Server) vlTail(w http.ResponseWriter, r *http.Request) {
	a, err := vlParse(r)
	if err != nil {
		vlError(w, err)
		return
	}
	if !a.q.CanLiveTail() {
		vlError(w, fmt.Errorf("the query [%s] cannot be used in live tailing: it holds pipes that need every row (stats, sort ...)", a.q))
		return
	}
	refresh, err1 := vlDuration(r, "refresh_interval", "1s")
	startOffset, err2 := vlDuration(r, "start_offset", "5s")
	offset, err3 := vlDuration(r, "offset", "5s")
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			vlError(w, err)
			return
		}
	}
	if refresh <= 0 {
		vlError(w, fmt.Errorf("'refresh_interval' must be bigger than zero"))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	tick := time.NewTicker(time.Duration(refresh))
	defer tick.Stop()
	t := &tailer{last: map[string]int64{}, sortFields: !a.q.IsFixedOutputFieldsOrder()}
	end := time.Now().UnixNano() - offset
	start := end - startOffset
	for {
		q := a.q.CloneWithTimeFilter(end, start, end)
		if err := s.runQuery(s.qctx(r.Context(), &vlArgs{q: q, hidden: a.hidden}), t.writeBlock); err != nil || t.err != nil {
			if r.Context().Err() == nil {
				fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(fmt.Sprint(err, t.err)))
			}
			return
		}
		out := &rowWriter{w: w}
		for _, row := range t.take() {
			out.appendRow(row.Fields)
		}
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := w.Write(out.buf); err != nil || rc.Flush() != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
		start, end = end-5e9, time.Now().UnixNano()-offset
	}
}

// tailRow is a row of a live tail: its stream, time and fields.
type tailRow struct {
	stream string
	time   int64
	Fields []logstorage.Field
}

// tailer gathers a live tail's rows of one refresh and remembers, per stream,
// the time of the last row written, so no row is written twice.
type tailer struct {
	mu         sync.Mutex
	rows       []tailRow
	last       map[string]int64
	sortFields bool
	err        error
}

func (t *tailer) writeBlock(_ uint, db *logstorage.DataBlock) {
	times, ok := db.GetTimestamps(nil)
	t.mu.Lock()
	defer t.mu.Unlock()
	if !ok {
		t.err = fmt.Errorf("the rows have no _time: a live tail needs it")
		return
	}
	if len(t.rows)+len(times) > maxTailRows {
		t.err = fmt.Errorf("more than %d rows match in one refresh: narrow the query", maxTailRows)
		return
	}
	cols := db.GetColumns(t.sortFields)
	for i, ts := range times {
		row := tailRow{time: ts, Fields: make([]logstorage.Field, len(cols))}
		for j, c := range cols {
			row.Fields[j] = logstorage.Field{Name: strings.Clone(c.Name), Value: strings.Clone(c.Values[i])}
			if c.Name == "_stream_id" {
				row.stream = row.Fields[j].Value
			}
		}
		t.rows = append(t.rows, row)
	}
}

// take returns the refresh's rows not written before, oldest first.
func (t *tailer) take() []tailRow {
	byTime := func(a, b tailRow) int {
		switch {
		case a.time < b.time:
			return -1
		case a.time > b.time:
			return 1
		}
		return 0
	}
	slices.SortStableFunc(t.rows, byTime)
	var out []tailRow
	newest := map[string]int64{}
	for _, row := range t.rows {
		if last, ok := t.last[row.stream]; ok && row.time <= last {
			continue
		}
		out = append(out, row)
		newest[row.stream] = row.time
	}
	for s, ts := range newest {
		t.last[s] = ts
	}
	t.rows = t.rows[:0]
	return out
}
