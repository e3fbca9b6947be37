package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/logsql"
)

// ErrPipes means a query for lines holds pipes (| stats ...): lines come back as
// lines, and what pipes make of them is the LogsQL API's (/select/logsql/query).
var ErrPipes = errors.New("a search for lines takes filters only; pipes such as | stats go to the LogsQL API (/select/logsql/query, vlogscli) or to the hits and facets of the admin API")

// Lines checks that q is a query for lines: filters only.
func Lines(q *logstorage.Query) error {
	if strings.Contains(q.String(), "|") {
		if _, err := logstorage.ParseFilter(q.String()); err != nil {
			return fmt.Errorf("%w: %w", logsql.ErrBadQuery, ErrPipes)
		}
	}
	return nil
}

// Page writes up to limit lines of q in order (newest first when desc), after
// the line at cursor when cursor is not nil, each with format; fewer when they
// pass the reader's WindowBytes as written. next is the position of the last
// line written when more lines follow, nil otherwise.
func (r *Reader) Page(ctx context.Context, q *logstorage.Query, desc bool, cursor *Position, limit int, format Format, write func([]byte) error) (next *Position, err error) {
	if err := Lines(q); err != nil {
		return nil, err
	}
	wk := walk{r: r, q: q, desc: desc, format: format, need: limit + 1}
	if cursor != nil {
		wk.after, wk.from = *cursor, true
	}
	n, size := 0, 0
	var last Position
	err = wk.run(ctx, func(b []byte, p Position) (bool, error) {
		if n == limit || size >= r.windowBytes {
			// A page of wide lines ends at windowBytes, short of limit: the
			// next page goes on from it, and no answer holds gigabytes.
			next = &last
			return false, nil
		}
		n++
		size += len(b)
		last = p
		return true, write(b)
	})
	return next, err
}

// Export writes every line of q oldest first, each with format, and returns how
// many it wrote. Memory stays at one window however many lines there are.
func (r *Reader) Export(ctx context.Context, q *logstorage.Query, format Format, write func([]byte) error) (int64, error) {
	if err := Lines(q); err != nil {
		return 0, err
	}
	var n int64
	wk := walk{r: r, q: q, format: format}
	err := wk.run(ctx, func(b []byte, _ Position) (bool, error) {
		n++
		return true, write(b)
	})
	return n, err
}

// Tail writes the newest n lines of q, oldest first, like the end of `heroku
// logs -n`. A tail that fits a window is read once; a longer one first finds
// where its oldest line is, reading positions only, then exports from there to
// the newest line it saw, so any n streams in constant memory.
func (r *Reader) Tail(ctx context.Context, q *logstorage.Query, n int, format Format, write func([]byte) error) error {
	if err := Lines(q); err != nil || n <= 0 {
		return err
	}
	if n <= r.windowRows {
		err := r.shortTail(ctx, q, n, format, write)
		if !errors.Is(err, errWideTail) {
			return err
		}
		// Wide lines: streamed from where the tail starts, as a long tail.
	}
	var newest, oldest Position
	count := 0
	wk := walk{r: r, q: q, desc: true}
	err := wk.run(ctx, func(_ []byte, p Position) (bool, error) {
		if count == 0 {
			newest = p
		}
		oldest = p
		count++
		return count < n, nil
	})
	if err != nil || count == 0 {
		return err
	}
	start := oldest
	start.ID-- // from the oldest line itself: the walk starts after its position
	out := walk{r: r, q: q, after: start, from: true, until: newest, bound: true, format: format}
	return out.run(ctx, func(b []byte, _ Position) (bool, error) { return true, write(b) })
}

// shortTail reads the newest n lines into memory and writes them oldest
// first. Lines that pass the reader's WindowBytes before n of them are read
// end it with errWideTail, having written nothing.
func (r *Reader) shortTail(ctx context.Context, q *logstorage.Query, n int, format Format, write func([]byte) error) error {
	var buf []byte
	var ends []int
	wk := walk{r: r, q: q, desc: true, format: format, need: n}
	err := wk.run(ctx, func(b []byte, _ Position) (bool, error) {
		if len(buf)+len(b) > r.windowBytes && len(ends) > 0 {
			return false, errWideTail
		}
		buf = append(buf, b...)
		ends = append(ends, len(buf))
		return len(ends) < n, nil
	})
	if err != nil {
		return err
	}
	for i := len(ends) - 1; i >= 0; i-- {
		start := 0
		if i > 0 {
			start = ends[i-1]
		}
		if err := write(buf[start:ends[i]]); err != nil {
			return err
		}
	}
	return nil
}

// errWideTail ends a short tail whose lines would pass the reader's
// WindowBytes in memory: Tail then streams it as a long one.
var errWideTail = errors.New("the tail's lines are too wide to hold")

// Line returns the line with id, and its position; the error wraps
// drainpipe.ErrNotFound when there is none. One query over every day held: ids
// say nothing of time, and the engine skips the blocks whose id column cannot
// hold it.
func (r *Reader) Line(ctx context.Context, id int64) (api.Line, Position, error) {
	q, err := logstorage.ParseQuery(logsql.Exact(FieldID, strconv.FormatInt(id, 10)))
	if err != nil {
		return api.Line{}, Position{}, err
	}
	lo, hi, ok := r.dataBounds(q.GetFilterTimeRange())
	if !ok {
		return api.Line{}, Position{}, fmt.Errorf("line %d: %w", id, drainpipe.ErrNotFound)
	}
	var found api.Line
	w := &window{format: func(dst []byte, l *api.Line) []byte {
		found = cloneLine(l)
		return dst
	}}
	if err := r.readTop(ctx, q, lo, hi, 1, false, w); err != nil {
		return api.Line{}, Position{}, err
	}
	if len(w.rows) == 0 {
		return api.Line{}, Position{}, fmt.Errorf("line %d: %w", id, drainpipe.ErrNotFound)
	}
	return found, w.rows[0].pos, nil
}

// Context is a line and the lines around it in its app, each as its format wrote
// it.
type Context struct {
	Line   api.Line
	Before [][]byte // oldest first
	Self   []byte
	After  [][]byte // oldest first
}

// Context returns the line with id and up to before lines that come before it
// and after lines that come after it in the same app, by time then id: what
// Papertrail's "centered on" link shows. The error wraps drainpipe.ErrNotFound
// when there is no such line.
func (r *Reader) Context(ctx context.Context, id int64, before, after int, format Format) (Context, error) {
	line, pos, err := r.Line(ctx, id)
	if err != nil {
		return Context{}, err
	}
	q, err := logstorage.ParseQuery(logsql.App(line.App))
	if err != nil {
		return Context{}, err
	}
	c := Context{Line: line, Self: format(nil, &line)}
	if c.Before, err = r.around(ctx, q, pos, true, before, format); err != nil {
		return Context{}, err
	}
	slices.Reverse(c.Before)
	if c.After, err = r.around(ctx, q, pos, false, after, format); err != nil {
		return Context{}, err
	}
	return c, nil
}

// around returns up to n lines of q next to pos, going back in time when desc:
// fewer, the nearest, when they pass the reader's WindowBytes (a context is
// one answer, held whole).
func (r *Reader) around(ctx context.Context, q *logstorage.Query, pos Position, desc bool, n int, format Format) ([][]byte, error) {
	if n <= 0 {
		return nil, nil
	}
	var out [][]byte
	size := 0
	wk := walk{r: r, q: q, desc: desc, after: pos, from: true, format: format, need: n}
	err := wk.run(ctx, func(b []byte, _ Position) (bool, error) {
		if size += len(b); size > r.windowBytes && len(out) > 0 {
			return false, nil
		}
		out = append(out, slices.Clone(b))
		return len(out) < n, nil
	})
	return out, err
}

// cloneLine copies l's strings out of the engine's block.
func cloneLine(l *api.Line) api.Line {
	c := *l
	for _, s := range []*string{&c.Drain, &c.App, &c.Source, &c.Dyno, &c.Host, &c.MsgID, &c.StructuredData, &c.Message} {
		*s = strings.Clone(*s)
	}
	return c
}
