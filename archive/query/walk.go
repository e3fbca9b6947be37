package query

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe/archive"
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
	need   int // lines wanted, 0 for all: smaller windows for fewer lines
}

// run calls emit with each line in order, with its bytes as format wrote them
// (valid only during the call), until emit returns false or an error, or the
// lines end. Each window is counted first (`| stats count()`, which reads little
// more than the times), cut to about its target before its lines are read, and
// skipped when empty; the next window is sized from the lines this one held.
// The next window is read while this one is handed on (two windows in memory),
// so the engine's reading and the caller's writing overlap.
func (wk *walk) run(ctx context.Context, emit func(b []byte, p Position) (bool, error)) error {
	if wk.need > 0 && wk.format != nil {
		return wk.runTop(ctx, emit)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	free, ready := make(chan *window, 2), make(chan *window)
	free <- &window{format: wk.format}
	free <- &window{format: wk.format}
	done := make(chan error, 1)
	go func() {
		defer close(ready)
		done <- wk.windows(ctx, free, ready)
	}()
	for w := range ready {
		more, err := wk.emit(w, emit)
		if !more || err != nil {
			cancel() // the reader stops; its error is only the cancellation
			for range ready {
			}
			<-done
			return err
		}
		free <- w
	}
	return <-done
}

// windows reads the walk's windows, each into a window taken from free, sorted,
// and sends them on ready, until the lines end or ctx does.
func (wk *walk) windows(ctx context.Context, free <-chan *window, ready chan<- *window) error {
	lo, hi, ok := wk.r.dataBounds(wk.q.GetFilterTimeRange())
	if !ok {
		return nil
	}
	wk.narrow(&lo, &hi)
	if lo > hi {
		return nil
	}
	span := firstWindow
	rowsCap := int64(maxNanos) // lowered when a window's lines pass the reader's windowBytes
	var held *window           // a window taken from free and not sent on
	for {
		target := min(wk.target(), rowsCap)
		wlo, whi := wk.next(lo, hi, span)
		n, err := wk.r.countIn(ctx, wk.q, wlo, whi)
		if err != nil {
			return err
		}
		if n > target && whi > wlo {
			span = scale(whi-wlo+1, target, n, 0)
			continue
		}
		if n > 0 {
			w := held
			if held = nil; w == nil {
				select {
				case w = <-free:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			// Read the window whole: lines stored since the count add to it
			// only what arrived in between. Over target, it is one nanosecond
			// (a batch of lines that had no time of their own): all of it,
			// whatever its bytes. Wider, a window whose lines pass windowBytes
			// is read again in windows of fewer rows.
			limit := 0
			if whi > wlo && wk.format != nil {
				limit = wk.r.windowBytes
			}
			err := wk.r.read(ctx, wk.q, wlo, whi, w, limit)
			if errors.Is(err, errWindowFull) {
				rowsCap = max(int64(len(w.rows))*3/4, 1)
				span = scale(whi-wlo+1, rowsCap, n, 0)
				held = w // read again, smaller
				continue
			}
			if err != nil {
				return err
			}
			w.sort(wk.desc)
			select {
			case ready <- w:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if wk.desc && wlo <= lo || !wk.desc && whi >= hi {
			return nil
		}
		if wk.desc {
			hi = wlo - 1
		} else {
			lo = whi + 1
		}
		span = scale(whi-wlo+1, target, n, 4)
	}
}

// runTop is run for a walk that wants few lines (a page, a short tail, a
// context). Windows are counted and cut as in run, to a target of a few times
// the lines still wanted, and each is read with the engine keeping only those
// (`| sort by (_time, id) limit k`), newest (or oldest) first. The engine's
// sort keeps its rows within a memory budget (a fifth of the archive's cache
// size: 12.8 MB by default); a window whose rows it cannot hold, such as 5,000
// lines of 2 KB, is read again in smaller windows.
func (wk *walk) runTop(ctx context.Context, emit func(b []byte, p Position) (bool, error)) error {
	lo, hi, ok := wk.r.dataBounds(wk.q.GetFilterTimeRange())
	if !ok {
		return nil
	}
	wk.narrow(&lo, &hi)
	if lo > hi {
		return nil
	}
	q := wk.q
	if wk.from {
		var err error
		if q, err = pastCursor(q, wk.after, wk.desc); err != nil {
			return err
		}
	}
	w := &window{format: wk.format}
	left := int64(wk.need)
	span := firstWindow
	rowsCap := int64(maxNanos) // lowered when the engine's sort cannot hold a window's rows
	for {
		target := min(max(4*left, 1000), rowsCap)
		wlo, whi := wk.next(lo, hi, span)
		n, err := wk.r.countIn(ctx, q, wlo, whi)
		if err != nil {
			return err
		}
		if n > target && whi > wlo {
			span = scale(whi-wlo+1, target, n, 0)
			continue
		}
		if n > 0 {
			err := wk.r.readTop(ctx, q, wlo, whi, int(left), wk.desc, w)
			switch {
			case archive.IsOverBudget(err) && whi > wlo && min(n, left) > 1:
				// The sort holds min(n, left) rows: wide lines, or many, need
				// windows of fewer rows, all of which it then keeps.
				rowsCap = max(min(n, left)/2, 1)
				span = scale(whi-wlo+1, rowsCap, n, 0)
				continue
			case archive.IsOverBudget(err) && min(n, left) > 1:
				// One instant that no window can split.
				sent, more, err := wk.instant(ctx, q, wlo, min(n, left), emit)
				if !more || err != nil {
					return err
				}
				left -= sent
			case err != nil:
				return err
			default:
				w.sort(wk.desc)
				for _, e := range w.rows {
					if more, err := emit(w.bytes(e), e.pos); !more || err != nil {
						return err
					}
					left--
				}
			}
		}
		if left <= 0 || wk.desc && wlo <= lo || !wk.desc && whi >= hi {
			return nil
		}
		if wk.desc {
			hi = wlo - 1
		} else {
			lo = whi + 1
		}
		span = scale(whi-wlo+1, target, n, 4)
	}
}

// instant hands on, in the walk's order, up to want lines of q at the one
// time at, when the engine's sort cannot hold them at once: a batch whose
// lines had no time of their own is stamped with one (drainpipe bench's,
// thousands of wide lines), and no window of time splits it. It reads them in
// slices of fewer rows, each past the last line of the one before (by id), and
// returns how many it handed on, and false when emit said stop.
func (wk *walk) instant(ctx context.Context, q *logstorage.Query, at, want int64, emit func([]byte, Position) (bool, error)) (int64, bool, error) {
	w := &window{format: wk.format}
	k := max(want/2, 1)
	var sent int64
	from := q
	for sent < want {
		ask := min(k, want-sent)
		err := wk.r.readTop(ctx, from, at, at, int(ask), wk.desc, w)
		if archive.IsOverBudget(err) && k > 1 {
			k = max(k/2, 1)
			continue
		}
		if err != nil {
			return sent, false, err
		}
		w.sort(wk.desc)
		for _, e := range w.rows {
			if more, err := emit(w.bytes(e), e.pos); !more || err != nil {
				return sent, false, err
			}
			sent++
		}
		if int64(len(w.rows)) < ask {
			break // the instant holds no more
		}
		if from, err = pastCursor(q, w.rows[len(w.rows)-1].pos, wk.desc); err != nil {
			return sent, false, err
		}
	}
	return sent, true, nil
}

// pastCursor is q without the lines that share the cursor's time but are not
// past it in the walk's order (the window starts at that time).
func pastCursor(q *logstorage.Query, c Position, desc bool) (*logstorage.Query, error) {
	at := time.Unix(0, c.Time).UTC().Format("2006-01-02T15:04:05.000000000Z")
	op := ":<="
	if desc {
		op = ":>="
	}
	f, err := logstorage.ParseFilter(fmt.Sprintf("!(_time:[%s, %s] %s%s%d)", at, at, FieldID, op, c.ID))
	if err != nil {
		return nil, fmt.Errorf("cursor %s: %w", c, err)
	}
	out := q.Clone(q.GetTimestamp())
	out.AddExtraFilters(f)
	return out, nil
}

// target is the number of lines a window of the walk aims at: the reader's
// WindowRows, or fewer when the walk wants few lines (a page, a context).
func (wk *walk) target() int64 {
	if wk.need > 0 && wk.format != nil {
		return int64(min(wk.r.windowRows, max(2*wk.need, 1000)))
	}
	return int64(wk.r.windowRows)
}

// scale is the span that would hold about three quarters of target lines, given
// that span held n; at most grow times span (an empty span grows by that much).
func scale(span, target, n int64, grow float64) int64 {
	f := grow
	if n > 0 {
		f = 0.75 * float64(target) / float64(n)
		if grow > 0 {
			f = min(f, grow)
		}
	}
	next := float64(span) * f
	switch {
	case next < 1:
		return 1
	case next > float64(maxNanos/4):
		return maxNanos / 4
	}
	return int64(next)
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

// emit hands on the (sorted) window's lines in order, skipping those outside
// the walk's start and end positions.
func (wk *walk) emit(w *window, emit func(b []byte, p Position) (bool, error)) (bool, error) {
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
