package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe/api"
)

// Format writes one line: api.AppendJSON, api.AppendText, or nil when only
// positions are wanted.
type Format func(dst []byte, l *api.Line) []byte

// entry is one line of a window: its position and its bytes in window.buf.
type entry struct {
	pos      Position
	off, end int
}

// window collects the lines of one time window from the engine's parallel
// workers, each written with format.
type window struct {
	format Format
	mu     sync.Mutex
	buf    []byte
	rows   []entry
	// limit, when not zero, is the bytes buf may hold: past it the window is
	// full, and stop ends the read (see Reader.read).
	limit int
	full  bool
	stop  context.CancelFunc
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// scratch is a worker's buffer for one block, copied into the window at once so
// that the lock is held for a copy, not for the formatting.
type scratch struct {
	buf  []byte
	rows []entry
	line api.Line
}

func (w *window) reset() {
	w.buf, w.rows, w.full = w.buf[:0], w.rows[:0], false
}

func (w *window) writeBlock(_ uint, db *logstorage.DataBlock) {
	n := db.RowsCount()
	if n == 0 {
		return
	}
	c := index(db.GetColumns(false))
	s := scratchPool.Get().(*scratch)
	s.buf, s.rows = s.buf[:0], s.rows[:0]
	for row := range n {
		e := entry{pos: c.position(row), off: len(s.buf)}
		if w.format != nil {
			c.line(&s.line, row, e.pos)
			s.buf = w.format(s.buf, &s.line)
		}
		e.end = len(s.buf)
		s.rows = append(s.rows, e)
	}
	s.line = api.Line{}
	w.mu.Lock()
	if w.full {
		w.mu.Unlock()
		scratchPool.Put(s)
		return
	}
	base := len(w.buf)
	w.buf = append(w.buf, s.buf...)
	for _, e := range s.rows {
		e.off += base
		e.end += base
		w.rows = append(w.rows, e)
	}
	if w.limit > 0 && len(w.buf) > w.limit {
		w.full = true
		w.stop()
	}
	w.mu.Unlock()
	scratchPool.Put(s)
}

// sort puts the window's lines in time order, newest first when desc.
func (w *window) sort(desc bool) {
	slices.SortFunc(w.rows, func(a, b entry) int {
		switch {
		case a.pos == b.pos:
			return 0
		case a.pos.Before(b.pos) != desc:
			return -1
		}
		return 1
	})
}

// bytes is e's line as written.
func (w *window) bytes(e entry) []byte { return w.buf[e.off:e.end] }

// read fills w with the lines of q in [lo, hi] (nanoseconds, inclusive): the
// fields a line shows, or only its position when w has no format. With limit
// set, a read whose lines pass limit bytes stops and returns errWindowFull.
func (r *Reader) read(ctx context.Context, q *logstorage.Query, lo, hi int64, w *window, limit int) error {
	wq := q.CloneWithTimeFilter(q.GetTimestamp(), lo, hi)
	if w.format != nil {
		wq.AddPipeFields(lineFields)
	} else {
		wq.AddPipeFields([]string{FieldTime, FieldID})
	}
	w.reset()
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	w.limit, w.stop = limit, stop
	err := r.run(rctx, wq, nil, w.writeBlock)
	if w.full && ctx.Err() == nil {
		return errWindowFull
	}
	return err
}

// errWindowFull ends a read whose lines took more than its limit.
var errWindowFull = errors.New("window full")

// readTop fills w with the k lines of q in [lo, hi] (nanoseconds, inclusive)
// that come first in time order, newest first when desc: the engine keeps only
// those k while it reads the window.
func (r *Reader) readTop(ctx context.Context, q *logstorage.Query, lo, hi int64, k int, desc bool, w *window) error {
	order := FieldTime + ", " + FieldID
	if desc {
		order = FieldTime + " desc, " + FieldID + " desc"
	}
	wq := q.CloneWithTimeFilter(q.GetTimestamp(), lo, hi)
	wq, err := logstorage.ParseQueryAtTimestamp(fmt.Sprintf("%s | fields %s | sort by (%s) limit %d", wq, strings.Join(lineFields, ", "), order, k), q.GetTimestamp())
	if err != nil {
		return fmt.Errorf("window of %s: %w", q, err)
	}
	w.reset()
	return r.run(ctx, wq, nil, w.writeBlock)
}

// countIn is the number of lines of q in [lo, hi] (nanoseconds, inclusive).
func (r *Reader) countIn(ctx context.Context, q *logstorage.Query, lo, hi int64) (int64, error) {
	return r.count(ctx, q.CloneWithTimeFilter(q.GetTimestamp(), lo, hi))
}
