package query

import (
	"context"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
)

// firstWindow is the span of the first window of a walk: a busy app's minute
// fits a window or two; a quiet app's windows grow fourfold until they find lines.
const firstWindow = int64(time.Minute)

// walk is one pass over the lines of a query in time order.
type walk struct {
	r      *Reader
	q      *logstorage.Query
	desc   bool     // newest first
	after  Position // the walk starts after this line (exclusive) ...
	from   bool     // ... when from is set
	until  Position // and ends at this line (inclusive) ...
	bound  bool     // ... when bound is set
	format Format
}

// run calls emit with each line in order, with its bytes as format wrote them
// (valid only during the call), until emit returns false or an error, or the
// lines end.
func (wk *walk) run(ctx context.Context, emit func(b []byte, p Position) (bool, error)) error {
	qlo, qhi := wk.q.GetFilterTimeRange()
	lo, hi, ok := wk.r.dataBounds(qlo, qhi)
	if !ok {
		return nil
	}
	wk.narrow(&lo, &hi)
	if lo > hi {
		return nil
	}
	w := &window{format: wk.format, lo: qlo, hi: qhi}
	span := firstWindow
	for {
		wlo, whi := wk.next(lo, hi, span)
		full, err := wk.r.read(ctx, wk.q, wlo, whi, wk.r.windowRows, w)
		if err != nil {
			return err
		}
		if full && whi > wlo {
			span = max(1, (whi-wlo)/4)
			continue
		}
		if full {
			// More than a window of lines share one nanosecond (a batch of lines
			// without a time of their own): read them all.
			if _, err := wk.r.read(ctx, wk.q, wlo, whi, 0, w); err != nil {
				return err
			}
		}
		if more, err := wk.emit(w, emit); !more || err != nil {
			return err
		}
		if wk.desc {
			if wlo <= lo {
				return nil
			}
			hi = wlo - 1
		} else {
			if whi >= hi {
				return nil
			}
			lo = whi + 1
		}
		span = grow(span, w.seen, wk.r.windowRows)
	}
}

// narrow shrinks [lo, hi] to the walk's start and end positions.
func (wk *walk) narrow(lo, hi *int64) {
	if wk.from {
		if wk.desc {
			*hi = min(*hi, wk.after.Time)
		} else {
			*lo = max(*lo, wk.after.Time)
		}
	}
	if wk.bound {
		if wk.desc {
			*lo = max(*lo, wk.until.Time)
		} else {
			*hi = min(*hi, wk.until.Time)
		}
	}
}

// next is the window of span nanoseconds at the walk's end of [lo, hi].
func (wk *walk) next(lo, hi, span int64) (int64, int64) {
	if uint64(hi)-uint64(lo) < uint64(span) { // unsigned: hi-lo may not fit an int64
		return lo, hi
	}
	if wk.desc {
		return hi - span + 1, hi
	}
	return lo, lo + span - 1
}

// emit hands on the window's lines in order, skipping those outside the walk's
// start and end positions.
func (wk *walk) emit(w *window, emit func(b []byte, p Position) (bool, error)) (bool, error) {
	w.sort(wk.desc)
	for _, e := range w.rows {
		if wk.from && !wk.beyond(e.pos, wk.after) {
			continue
		}
		if wk.bound && wk.beyond(e.pos, wk.until) {
			return false, nil
		}
		if more, err := emit(w.bytes(e), e.pos); !more || err != nil {
			return false, err
		}
	}
	return true, nil
}

// beyond reports whether p comes after o in the walk's order.
func (wk *walk) beyond(p, o Position) bool {
	if wk.desc {
		return p.Before(o)
	}
	return o.Before(p)
}

// grow is the next window's span: four times as long after a window with few
// lines, half as long after a nearly full one.
func grow(span int64, rows, limit int) int64 {
	switch {
	case rows < limit/8 && span < int64(365*24*time.Hour):
		return span * 4
	case rows > limit/2:
		return max(1, span/2)
	}
	return span
}
