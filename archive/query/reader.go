package query

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
)

// Storage is what a Reader needs of VictoriaLogs' storage; *logstorage.Storage
// has it.
type Storage interface {
	// RunQuery runs qctx and calls writeBlock, from parallel workers, for each
	// block of results.
	RunQuery(qctx *logstorage.QueryContext, writeBlock logstorage.WriteDataBlockFunc) error
	// DataRange is the oldest and newest _time held; ok is false when none is.
	DataRange() (lo, hi int64, ok bool)
}

// DefaultWindowRows is the lines a time window aims at when Config.WindowRows
// is zero: a few megabytes of lines.
const DefaultWindowRows = 20_000

// DefaultWindowBytes is what the lines of a window may take, as written, when
// Config.WindowBytes is zero: 20,000 router lines take about 6 MB, and wider
// lines make windows of fewer rows.
const DefaultWindowBytes = 8 << 20

// Config configures a Reader.
type Config struct {
	// Storage is the archive's storage.
	Storage Storage
	// Tenant is the tenant the archive writes its lines to.
	Tenant logstorage.TenantID
	// WindowRows is the lines a time window aims at, which bounds the memory a
	// walk holds (see the package doc); more only when more lines than that share
	// one nanosecond, or arrive between a window's count and its reading.
	// Default DefaultWindowRows.
	WindowRows int
	// WindowBytes bounds the bytes of a window's lines as written: a window
	// whose lines pass it (wide lines) is read again in smaller windows, so
	// that a walk holds about twice this whatever its lines. Only the lines of
	// one nanosecond are read whole past it. Default DefaultWindowBytes.
	WindowBytes int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Reader runs drainpipe's queries on the archive's storage. It is safe for
// concurrent use.
type Reader struct {
	st          Storage
	tenants     []logstorage.TenantID
	windowRows  int
	windowBytes int
	now         func() time.Time
}

// New returns a Reader of cfg.Storage.
func New(cfg Config) *Reader {
	r := &Reader{st: cfg.Storage, tenants: []logstorage.TenantID{cfg.Tenant}, windowRows: cfg.WindowRows,
		windowBytes: cfg.WindowBytes, now: cfg.Now}
	if r.windowRows <= 0 {
		r.windowRows = DefaultWindowRows
	}
	if r.windowBytes <= 0 {
		r.windowBytes = DefaultWindowBytes
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// Position is a line's place in time order: by time, then by id.
type Position struct {
	// Time is the line's time in Unix nanoseconds.
	Time int64
	// ID is the line's id.
	ID int64
}

// Before reports whether p comes before o in time order.
func (p Position) Before(o Position) bool {
	return p.Time < o.Time || p.Time == o.Time && p.ID < o.ID
}

// String is p as a paging cursor: "TIME-ID" in decimal.
func (p Position) String() string { return fmt.Sprintf("%d-%d", p.Time, p.ID) }

// ParsePosition reads a cursor that Position.String wrote.
func ParsePosition(s string) (Position, error) {
	var p Position
	var rest string
	if n, err := fmt.Sscanf(s, "%d-%d%s", &p.Time, &p.ID, &rest); n != 2 || err == nil {
		return Position{}, fmt.Errorf("cursor %q: want the next cursor of a previous page", s)
	}
	if p.String() != s {
		return Position{}, fmt.Errorf("cursor %q: want the next cursor of a previous page", s)
	}
	return p, nil
}

const (
	minNanos = math.MinInt64
	maxNanos = math.MaxInt64
)

// dataBounds narrows [lo, hi] (nanoseconds, inclusive) to the times the
// storage holds; ok is false when it holds none of them.
func (r *Reader) dataBounds(lo, hi int64) (int64, int64, bool) {
	dlo, dhi, ok := r.st.DataRange()
	if !ok {
		return 0, 0, false
	}
	lo, hi = max(lo, dlo), min(hi, dhi)
	return lo, hi, lo <= hi
}

// run runs q (hiding the fields hidden) and calls write for each block of
// results. The engine stops early, without an error, when ctx ends: run then
// returns ctx's error, so that a cut answer is never taken for a whole one.
func (r *Reader) run(ctx context.Context, q *logstorage.Query, hidden []string, write logstorage.WriteDataBlockFunc) error {
	qctx := logstorage.NewQueryContext(ctx, &logstorage.QueryStats{}, r.tenants, q, false, hidden)
	if err := r.st.RunQuery(qctx, write); err != nil {
		return fmt.Errorf("run query: %w", err)
	}
	return ctx.Err()
}
