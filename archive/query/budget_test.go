package query_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/archive/query"
	"github.com/drainpipe/drainpipe/logsql"
)

// TestWideLinesPassTheSortBudget reads pages, tails, contexts and the newest
// rows of 12,000 lines of 2 KB (24 MB, twice what the engine's sort may hold
// at the archive's default cache size), 2,000 of them in one nanosecond: every
// read that keeps the newest (or oldest) n lines in the engine's sort must
// come back whole and in order, however many n, not fail with the engine's
// "requires more than 12MB of memory".
func TestWideLinesPassTheSortBudget(t *testing.T) {
	arc := openArchive(t)
	base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	pad := strings.Repeat("x", 2000)
	var lines []api.Line
	for i := range 12_000 {
		at := base.Add(time.Duration(i) * 250 * time.Millisecond)
		if i >= 5000 && i < 7000 {
			at = base.Add(5000 * 250 * time.Millisecond) // many lines, one time
		}
		lines = append(lines, api.Line{Time: at, Received: at, App: "wide", Drain: "d", Source: "app", Dyno: "web.1",
			Priority: 190, Message: fmt.Sprintf("line %05d key=value %s", i, pad)})
	}
	store(t, arc, lines)
	r := query.New(query.Config{Storage: arc})
	ctx := context.Background()
	q := appQuery(t, logsql.Search{App: "wide"})
	want := messages(lines)

	t.Run("tail", func(t *testing.T) {
		var out []byte
		if err := r.Tail(ctx, q, 10_000, api.AppendJSON, collect(&out)); err != nil {
			t.Fatal(err)
		}
		if got := messages(decode(t, out)); !slices.Equal(got, want[2000:]) {
			t.Errorf("tail -n 10000: %d lines, want the last 10000 in order", len(got))
		}
	})
	t.Run("pages", func(t *testing.T) {
		for _, desc := range []bool{false, true} {
			// Pages of 10,000 lines asked, as many as 8 MiB holds each, until 10,000.
			got := pagedMessages(t, r, q, desc, 10_000)
			w := slices.Clone(want)
			if desc {
				slices.Reverse(w)
			}
			if !slices.Equal(got, w[:10_000]) {
				t.Errorf("pages of 10000, desc=%v: %d lines, not the first 10000 in order", desc, len(got))
			}
		}
	})
	t.Run("context", func(t *testing.T) {
		line, before, after := contextFromEnd(t, r, q, 6000, 5000)
		// As many of the nearest as 8 MiB holds each side (about 3,800).
		i, nb, na := slices.Index(want, line), len(before), len(after)
		if i < 0 || nb < 1000 || na < 1000 || nb > 5000 || na > 5000 ||
			!slices.Equal(before, want[i-nb:i]) || !slices.Equal(after, want[i+1:i+1+na]) {
			t.Errorf("context -B 5000 -A 5000 of line %d: %d before, %d after, not the nearest lines around it", i, nb, na)
		}
	})
	t.Run("newest", func(t *testing.T) {
		var rows []query.Row
		err := r.Newest(ctx, q, 9000, nil, func(row query.Row) error {
			rows = append(rows, row)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 9000 || rows[0].Time < rows[len(rows)-1].Time {
			t.Errorf("newest 9000 rows: %d, newest first %v", len(rows), len(rows) > 0 && rows[0].Time >= rows[len(rows)-1].Time)
		}
	})
}

// wideArchive is an archive holding 400 lines of app "wide" of 100 KB each,
// a second apart, and those lines in order.
func wideArchive(t *testing.T) (*archive.Archive, []api.Line) {
	t.Helper()
	arc := openArchive(t)
	base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	pad := strings.Repeat("y", 100_000)
	var lines []api.Line
	for i := range 400 {
		at := base.Add(time.Duration(i) * time.Second)
		lines = append(lines, api.Line{Time: at, Received: at, App: "wide", Drain: "d", Source: "app", Dyno: "web.1",
			Priority: 190, Message: fmt.Sprintf("line %03d %s", i, pad)})
	}
	store(t, arc, lines)
	return arc, lines
}

// rowCounter is the archive's storage, counting the rows each query that reads
// lines (not a count) hands back, so a test can see what a window held.
type rowCounter struct {
	query.Storage
	mu    sync.Mutex
	most  int
	bytes int // of the values of every row handed back so far
}

// read is the bytes of values handed back so far.
func (c *rowCounter) read() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

func (c *rowCounter) RunQuery(qctx *logstorage.QueryContext, write logstorage.WriteDataBlockFunc) error {
	var mu sync.Mutex
	rows := 0
	err := c.Storage.RunQuery(qctx, func(worker uint, db *logstorage.DataBlock) {
		size := 0
		for _, col := range db.GetColumns(false) {
			for _, v := range col.Values {
				size += len(v)
			}
		}
		mu.Lock()
		rows += db.RowsCount()
		mu.Unlock()
		c.mu.Lock()
		c.bytes += size
		c.mu.Unlock()
		write(worker, db)
	})
	if !strings.Contains(qctx.Query.String(), "stats") {
		c.mu.Lock()
		c.most = max(c.most, rows)
		c.mu.Unlock()
	}
	return err
}

// TestWideLinesExportInWindowsOfBytes exports 400 lines of 100 KB with a
// 1 MiB window: every line comes, in order, and no read holds more than a
// few megabytes of them (windows of 20,000 rows would hold all 40 MB).
func TestWideLinesExportInWindowsOfBytes(t *testing.T) {
	arc, lines := wideArchive(t)
	counter := &rowCounter{Storage: arc}
	r := query.New(query.Config{Storage: counter, WindowBytes: 1 << 20})
	var out []byte
	n, err := r.Export(context.Background(), appQuery(t, logsql.Search{App: "wide"}), api.AppendJSON, collect(&out))
	if err != nil {
		t.Fatal(err)
	}
	if got := messages(decode(t, out)); n != 400 || !slices.Equal(got, messages(lines)) {
		t.Errorf("export: %d lines (%d counted), want the 400 in order", len(got), n)
	}
	if counter.most > 40 {
		t.Errorf("a read held %d lines of 100 KB; want a window of about 1 MiB (10 lines, 40 at most)", counter.most)
	}
}

// TestWideLinesTailAndPagesStayWithinBytes: a tail of 300 lines of 100 KB
// (30 MB) with a 1 MiB window is streamed, not held: its first line is written
// before two thirds of the lines were read. A page of them ends at about 1 MiB,
// with a cursor to the rest; a context holds about 1 MiB each side, the nearest.
func TestWideLinesTailAndPagesStayWithinBytes(t *testing.T) {
	arc, lines := wideArchive(t)
	counter := &rowCounter{Storage: arc}
	r := query.New(query.Config{Storage: counter, WindowBytes: 1 << 20})
	q := appQuery(t, logsql.Search{App: "wide"})

	var out []byte
	readAtFirst := -1
	err := r.Tail(context.Background(), q, 300, api.AppendJSON, func(b []byte) error {
		if readAtFirst < 0 {
			readAtFirst = counter.read()
		}
		out = append(out, b...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := messages(decode(t, out)); !slices.Equal(got, messages(lines[100:])) {
		t.Errorf("tail -n 300: %d lines, want the last 300 in order", len(got))
	}
	if readAtFirst > 20_000_000 {
		t.Errorf("the tail's first line was written after %d bytes were read; want it streamed (under 20 MB of its 30)", readAtFirst)
	}

	c, err := r.Context(context.Background(), decode(t, out)[150].ID, 200, 200, api.AppendJSON)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Before) == 0 || len(c.Before) > 12 || len(c.After) == 0 || len(c.After) > 12 || c.Line.Message != lines[250].Message {
		t.Errorf("context -B 200 -A 200 of wide lines: %d before, %d after; want the nearest, about 1 MiB each side", len(c.Before), len(c.After))
	} else if before := decode(t, c.Before[len(c.Before)-1]); before[0].Message != lines[249].Message {
		t.Errorf("the line just before is %.12q, want %.12q", before[0].Message, lines[249].Message)
	}

	readBefore := counter.read()
	readAtFirst, rows := -1, 0
	err = r.Newest(context.Background(), q, 300, nil, func(query.Row) error {
		if rows++; readAtFirst < 0 {
			readAtFirst = counter.read() - readBefore
		}
		return nil
	})
	if err != nil || rows != 300 || readAtFirst > 20_000_000 {
		t.Errorf("the newest 300 wide lines: %d rows, %v, the first handed on after %d bytes were read; want them streamed", rows, err, readAtFirst)
	}

	out = out[:0]
	next, err := r.Page(context.Background(), q, true, nil, 300, api.AppendJSON, collect(&out))
	if err != nil {
		t.Fatal(err)
	}
	page := decode(t, out)
	if len(page) == 0 || len(page) > 12 || next == nil || page[0].Message != lines[399].Message {
		t.Errorf("a page of 300 wide lines: %d lines (next %v); want the newest, about 1 MiB of them, and a cursor", len(page), next)
	}
}

// TestOneInstantPassesTheSortBudget: 9,000 lines of 2 KB stamped with one
// time (a batch whose lines had none of their own: 18 MB in one nanosecond,
// more than the engine's sort may hold, and no window of time splits it), with
// lines before and after: pages, a tail, a context and the newest rows come
// back whole and in order (they failed with "requires more than 12MB").
func TestOneInstantPassesTheSortBudget(t *testing.T) {
	arc := openArchive(t)
	base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	pad := strings.Repeat("x", 2000)
	var lines []api.Line
	for i := range 9_200 {
		at := base.Add(time.Minute) // the instant
		switch {
		case i < 100:
			at = base.Add(time.Duration(i) * time.Millisecond)
		case i >= 9_100:
			at = base.Add(2*time.Minute + time.Duration(i)*time.Millisecond)
		}
		lines = append(lines, api.Line{Time: at, Received: at, App: "instant", Drain: "d", Source: "app", Dyno: "web.1",
			Priority: 190, Message: fmt.Sprintf("line %05d %s", i, pad)})
	}
	store(t, arc, lines)
	r := query.New(query.Config{Storage: arc})
	ctx := context.Background()
	q := appQuery(t, logsql.Search{App: "instant"})
	want := messages(lines)

	t.Run("pages", func(t *testing.T) {
		for _, desc := range []bool{false, true} {
			got := pagedMessages(t, r, q, desc, 10_000)
			w := slices.Clone(want)
			if desc {
				slices.Reverse(w)
			}
			if !slices.Equal(got, w) {
				t.Errorf("pages, desc=%v: %d lines, want all %d in order", desc, len(got), len(w))
			}
		}
	})
	t.Run("tail", func(t *testing.T) {
		var out []byte
		if err := r.Tail(ctx, q, 9_000, api.AppendJSON, collect(&out)); err != nil {
			t.Fatal(err)
		}
		if got := messages(decode(t, out)); !slices.Equal(got, want[200:]) {
			t.Errorf("tail -n 9000: %d lines, want the last 9000 in order", len(got))
		}
	})
	t.Run("context", func(t *testing.T) {
		line, before, after := contextFromEnd(t, r, q, 4600, 3000)
		i, nb, na := slices.Index(want, line), len(before), len(after)
		if i < 0 || nb < 1000 || na < 1000 ||
			!slices.Equal(before, want[i-nb:i]) || !slices.Equal(after, want[i+1:i+1+na]) {
			t.Errorf("context -B 3000 -A 3000 of line %d: %d before, %d after, not the nearest lines around it", i, nb, na)
		}
	})
	t.Run("newest", func(t *testing.T) {
		var got []int64
		err := r.Newest(ctx, q, 9_000, nil, func(row query.Row) error {
			got = append(got, row.Time)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 9_000 || !slices.IsSortedFunc(got, func(a, b int64) int { return int(b - a) }) {
			t.Errorf("newest 9000 rows: %d, newest first %v", len(got), slices.IsSortedFunc(got, func(a, b int64) int { return int(b - a) }))
		}
	})
}

// pagedMessages reads the messages of q's lines page after page (desc: newest
// first), each page asked for what is still missing of total, until total or
// the last page.
func pagedMessages(t *testing.T, r *query.Reader, q *logstorage.Query, desc bool, total int) []string {
	t.Helper()
	var got []string
	var cursor *query.Position
	for len(got) < total {
		var out []byte
		next, err := r.Page(context.Background(), q, desc, cursor, total-len(got), api.AppendJSON, collect(&out))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, messages(decode(t, out))...)
		if next == nil {
			break
		}
		cursor = next
	}
	return got
}

// contextFromEnd reads the context of the line back lines before q's newest,
// n lines each side asked, and returns the messages of the line and of the
// lines before and after it.
func contextFromEnd(t *testing.T, r *query.Reader, q *logstorage.Query, back int64, n int) (line string, before, after []string) {
	t.Helper()
	ctx := context.Background()
	var out []byte
	if err := r.Tail(ctx, q, 1, api.AppendJSON, collect(&out)); err != nil {
		t.Fatal(err)
	}
	c, err := r.Context(ctx, decode(t, out)[0].ID-back, n, n, api.AppendJSON)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range c.Before {
		before = append(before, messages(decode(t, b))...)
	}
	for _, b := range c.After {
		after = append(after, messages(decode(t, b))...)
	}
	return c.Line.Message, before, after
}
