package httpd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
)

// Limits of live tailing. A tail runs for as long as its client stays, so each
// thing a client can ask of it is bounded.
const (
	// maxTails is how many tails run at once; one more is refused at once (it
	// would wait for a client to leave, which may be hours). Each runs its query
	// every second, so, like maxSelects, about one per core of a small machine.
	maxTails = 4
	// maxTailBytes bounds the rows one run of a tail's query holds: they are
	// held until the run ends, to be written oldest first. 8 MiB is about 20,000
	// Heroku lines (~400 bytes each as JSON), so a refresh (the rows of the last
	// second; rows of the 5 s overlap written before are dropped as they come)
	// of an app doing 20,000 lines a second fits in one run. A run that finds
	// more is dropped and its span run again as shorter spans one after the
	// other, so the cap bounds memory (maxTails × 8 MiB, up to twice that as
	// the buffer grows by doubling), not throughput: an
	// app doing tens of thousands of lines a second takes a few runs a refresh.
	// Only more than this at one instant, which no span can split, ends the
	// tail.
	maxTailBytes = 8 << 20
	// maxTailStartOffset bounds how far back a tail's first refresh reads: a
	// live tail needs the last few seconds (the default is 5 s), and a catch-up
	// of hours of a busy app is an export, which /select/logsql/query (with its
	// own limits) serves.
	maxTailStartOffset = time.Hour
	// minTailRefresh is VictoriaLogs' default refresh_interval: each refresh runs
	// the query over refresh_interval + 5 s, so refreshing more often only
	// spends CPU (4 tails at 1ns took both cores of a 2-core machine).
	minTailRefresh = time.Second
	// tailOverlap is how far back each refresh reads before the previous one's
	// end, for rows that became searchable late.
	tailOverlap = 5 * time.Second
)

// refuseTail answers a live tail past maxTails. A tail does not wait in line
// as a query does: it holds its slot for as long as its client stays, so the
// wait would mostly end in the same refusal.
func refuseTail(w http.ResponseWriter, _ *http.Request) {
	vlErrorCode(w, http.StatusServiceUnavailable, fmt.Errorf("%d live tails are open, the most drainpipe runs at once: close one, or try again later", maxTails))
}

// vlTail serves /select/logsql/tail: the query's new rows as they come, one
// JSON object a line, oldest first, for as long as the client reads. Every
// refresh_interval (default 1s; less than 1s is answered 400, as refreshing
// faster than VictoriaLogs' default only spends CPU) it reads the rows of
// [previous end-5s, now-offset] (offset, default 5s, leaves time for the rows
// to become searchable) and writes those of each stream newer than the last it
// wrote. The first read goes back start_offset (default 5s, at most 1h: 400
// over it). A refresh holds at most maxTailBytes of rows at a time (see there).
//
// The status is sent after the first refresh, so that an error in it is an
// error answer (400, or 503 for a refresh over maxQueryDuration). A later
// failure is logged and cuts the answer (http.ErrAbortHandler), so that the
// client sees a broken stream rather than a clean end or an error as data.
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
	if err := errors.Join(err1, err2, err3); err != nil {
		vlError(w, err)
		return
	}
	switch {
	case refresh < int64(minTailRefresh):
		vlError(w, fmt.Errorf("'refresh_interval' must be at least %s; got %s", minTailRefresh, time.Duration(refresh)))
		return
	case startOffset < 0 || startOffset > int64(maxTailStartOffset):
		vlError(w, fmt.Errorf("'start_offset' must be between 0 and %s; got %s: a live tail shows new rows, /select/logsql/query older ones", maxTailStartOffset, time.Duration(startOffset)))
		return
	}
	st := newStream(w, "application/x-ndjson")
	t := &tailer{last: map[string]int64{}, sortFields: !a.q.IsFixedOutputFieldsOrder()}
	tick := time.NewTicker(time.Duration(refresh))
	defer tick.Stop()
	end := time.Now().UnixNano() - offset
	start := end - startOffset
	for {
		if err := s.tailRefresh(r.Context(), a, t, start, end, st); err != nil {
			s.tailError(r, st, err)
			return
		}
		if err := st.flush(); err != nil { // also sends the status after the first refresh
			return
		}
		t.forget(end - int64(tailOverlap))
		select {
		case <-r.Context().Done():
			return
		case <-draining(r.Context()).Done(): // the server is shutting down: the stream ends, the client comes back
			return
		case <-tick.C:
		}
		start, end = end-int64(tailOverlap), time.Now().UnixNano()-offset
	}
}

// errTailWrite wraps a failed write to the client: it is gone or stopped
// reading, and there is no one to tell.
type errTailWrite struct{ error }

// tailError ends a tail that failed: with an error answer when its status is
// not sent yet, else by cutting the answer. A client that left ends it quietly.
func (s *Server) tailError(r *http.Request, st *stream, err error) {
	if r.Context().Err() != nil || errors.As(err, new(errTailWrite)) {
		return
	}
	code := http.StatusBadRequest
	if errors.Is(err, context.DeadlineExceeded) {
		code = http.StatusServiceUnavailable
		err = fmt.Errorf("a refresh of the live tail took more than %s: narrow the query", maxQueryDuration)
	}
	if !st.started {
		vlErrorCode(st.w, code, err)
		return
	}
	s.log.Warn("LogsQL live tail failed", "err", err, "query", r.FormValue("query"))
	panic(http.ErrAbortHandler) // the status is out: cut the answer so the client sees it failed
}

// tailRefresh writes the rows of a's query in [start, end] that are newer than
// the last written of their stream, oldest first. It runs the query over the
// whole span; when a run's rows outgrow maxTailBytes it drops them and goes
// on with a shorter span, run after run in time order (doubling the span again
// after each run that fits), so what it holds stays under the cap whatever the
// rate of rows.
func (s *Server) tailRefresh(ctx context.Context, a *vlArgs, t *tailer, start, end int64, st *stream) error {
	span := end - start + 1
	for lo := start; lo <= end; {
		hi := end
		if span <= end-lo {
			hi = lo + span - 1
		}
		err := s.tailRun(ctx, a, t, lo, hi, end)
		if errors.Is(err, errTailFull) {
			if hi == lo {
				return fmt.Errorf("more than %d MiB of rows match the query at one instant (%s): a live tail cannot hold them; narrow the query", maxTailBytes>>20, rfc3339(lo))
			}
			// The rows held are a sample of the span's: end the next span before
			// their median time (or at lo, when that is the median), which
			// finds a span that fits, or an instant that cannot, in a few runs
			// where halving would take up to 33.
			span = (hi - lo + 1) / 2
			if m, ok := t.median(); ok {
				span = max(1, m-lo)
			}
			t.drop()
			continue
		}
		if err != nil {
			return err
		}
		if err := t.writeTo(st); err != nil {
			return errTailWrite{err}
		}
		lo = hi + 1
		if span <= (end-start)/2 {
			span *= 2
		}
	}
	return nil
}

// errTailFull is a run whose rows outgrew maxTailBytes.
var errTailFull = errors.New("the rows of a live tail's run outgrew its cap")

// tailRun runs a's query over [lo, hi] (at the time at, for its relative time
// filters) into t, within maxQueryDuration.
func (s *Server) tailRun(ctx context.Context, a *vlArgs, t *tailer, lo, hi, at int64) error {
	ctx, cancel := context.WithTimeout(ctx, maxQueryDuration)
	defer cancel()
	t.begin(cancel)
	q := a.q.CloneWithTimeFilter(at, lo, hi)
	err := s.runQuery(s.qctx(ctx, &vlArgs{q: q, hidden: a.hidden}), t.writeBlock)
	if t.err != nil { // the run was cancelled for it
		err = t.err
	}
	switch {
	case err == nil, errors.Is(err, errTailFull): // the caller writes or drops the rows
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		t.drop()
	default:
		t.drop()
		err = fmt.Errorf("cannot execute query [%s]: %w", a.q, err)
	}
	return err
}

// tailRow is a row of a live tail: its stream, time, and its JSON line, at
// [off, end) of tailer.buf.
type tailRow struct {
	stream   string
	time     int64
	off, end int
}

// tailRowSize is what a row holds beside its JSON line.
const tailRowSize = int(unsafe.Sizeof(tailRow{}))

// tailer gathers the rows of one run of a live tail's query, as JSON lines, and
// remembers, per stream, the time of the last row written, so no row is
// written twice.
type tailer struct {
	// last is read by writeBlock without mu: it changes only between runs.
	last       map[string]int64
	sortFields bool

	mu      sync.Mutex
	buf     []byte
	rows    []tailRow
	streams map[string]string // the run's stream ids, each held once
	size    int               // bytes held: buf, rows and streams
	cancel  func()            // ends the run
	err     error
}

// begin readies t for a run that cancel ends.
func (t *tailer) begin(cancel func()) {
	t.cancel, t.err, t.size = cancel, nil, 0
	t.streams = map[string]string{}
}

// writeBlock adds the block's rows newer than the last written of their
// stream; it is called from the engine's workers at once. When the rows held
// would outgrow maxTailBytes it ends the run with errTailFull.
func (t *tailer) writeBlock(_ uint, db *logstorage.DataBlock) {
	times, ok := db.GetTimestamps(nil)
	if !ok {
		t.fail(errors.New("the rows have no _time: a live tail needs it"))
		return
	}
	cols := db.GetColumns(t.sortFields)
	var ids []string
	if c := db.GetColumnByName("_stream_id"); c != nil {
		ids = c.Values
	}
	// Encode outside the lock: the workers do this part in parallel.
	var (
		out    rowWriter
		rows   []tailRow
		fields = make([]logstorage.Field, len(cols))
	)
	for i, ts := range times {
		var stream string
		if ids != nil {
			stream = ids[i]
		}
		if last, ok := t.last[stream]; ok && ts <= last {
			continue // in the overlap, written before
		}
		for j, c := range cols {
			fields[j] = logstorage.Field{Name: c.Name, Value: c.Values[i]}
		}
		off := len(out.buf)
		out.appendRow(fields)
		if len(out.buf) > off {
			rows = append(rows, tailRow{stream: stream, time: ts, off: off, end: len(out.buf)})
		}
	}
	if len(rows) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return
	}
	t.size += len(out.buf) + len(rows)*tailRowSize
	if t.size > maxTailBytes {
		t.err = errTailFull
		t.cancel()
		return
	}
	base := len(t.buf)
	t.buf = append(t.buf, out.buf...)
	for _, row := range rows {
		s, ok := t.streams[row.stream]
		if !ok {
			s = strings.Clone(row.stream) // the block's memory is the engine's
			t.streams[s] = s
			t.size += len(s)
		}
		row.stream, row.off, row.end = s, row.off+base, row.end+base
		t.rows = append(t.rows, row)
	}
}

// fail ends the run with err.
func (t *tailer) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.err = err
		t.cancel()
	}
}

// sort puts the run's rows oldest first; rows of one time keep their order.
func (t *tailer) sort() {
	slices.SortStableFunc(t.rows, func(a, b tailRow) int {
		switch {
		case a.time < b.time:
			return -1
		case a.time > b.time:
			return 1
		}
		return 0
	})
}

// median is the median time of the rows held, if any.
func (t *tailer) median() (int64, bool) {
	if len(t.rows) == 0 {
		return 0, false
	}
	t.sort()
	return t.rows[len(t.rows)/2].time, true
}

// writeTo writes the run's rows, oldest first, and remembers the newest of
// each stream.
func (t *tailer) writeTo(st *stream) error {
	defer t.drop()
	t.sort()
	for _, row := range t.rows {
		if err := st.write(t.buf[row.off:row.end]); err != nil {
			return err
		}
		t.last[row.stream] = row.time
	}
	return nil
}

// drop lets the run's rows go; a large buffer is not kept between refreshes.
func (t *tailer) drop() {
	t.rows, t.buf, t.streams = t.rows[:0], t.buf[:0], nil
	if cap(t.buf) > 4*streamBuffer {
		t.rows, t.buf = nil, nil
	}
}

// forget drops the streams whose last row written is before the next
// refresh's start: any row of theirs it reads is new, so remembering them only
// grows the map (one-off dynos make new streams all day).
func (t *tailer) forget(before int64) {
	for s, ts := range t.last {
		if ts < before {
			delete(t.last, s)
		}
	}
}
