package query_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/archive/query"
	"github.com/drainpipe/drainpipe/logsql"
)

// fixture stores lines of two apps at times that repeat (a burst of lines in
// one nanosecond, bigger than a window, among them) and ids that do not follow
// time, and returns a reader with small windows and the lines of app "a" in time
// order.
func fixture(t *testing.T) (*query.Reader, []api.Line) {
	t.Helper()
	arc := openArchive(t)
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Now().UTC().Truncate(time.Hour).Add(-30 * time.Hour)
	var all, a []api.Line
	for i := range 3000 {
		app, dyno := "a", "web.1"
		if i%3 == 0 {
			app = "b"
		}
		if i%5 == 0 {
			dyno = "worker.2"
		}
		at := base.Add(time.Duration(rng.IntN(40*3600)) * time.Second / 4) // many lines share a time
		if i < 120 {
			at = base.Add(20 * time.Hour) // a burst in one nanosecond, more than a window
		}
		l := api.Line{ID: int64(i), Time: at, Received: at.Add(time.Second), Drain: "d_" + app, App: app,
			Source: "app", Dyno: dyno, Priority: 190, Message: fmt.Sprintf("line %d of %s", i, dyno)}
		all = append(all, l)
		if app == "a" {
			a = append(a, l)
		}
	}
	store(t, arc, all) // ids grow in this order, as the ID above does
	slices.SortFunc(a, func(x, y api.Line) int {
		if c := x.Time.Compare(y.Time); c != 0 {
			return c
		}
		return int(x.ID - y.ID)
	})
	return query.New(query.Config{Storage: arc, WindowRows: 37}), a
}

func appQuery(t *testing.T, s logsql.Search) *logstorage.Query {
	t.Helper()
	q, err := s.Query(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func collect(out *[]byte) func([]byte) error {
	return func(b []byte) error {
		*out = append(*out, b...)
		return nil
	}
}

func TestExportInOrder(t *testing.T) {
	r, want := fixture(t)
	var out []byte
	n, err := r.Export(context.Background(), appQuery(t, logsql.Search{App: "a"}), api.AppendJSON, collect(&out))
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, out)
	if n != int64(len(want)) || !slices.Equal(messages(got), messages(want)) {
		t.Fatalf("export wrote %d lines, ids %v...; want %d lines, ids %v...", n, messages(got)[:min(10, len(got))], len(want), messages(want)[:10])
	}
	for i := range got {
		if !got[i].Time.Equal(want[i].Time) || got[i].Message != want[i].Message || got[i].Dyno != want[i].Dyno || got[i].App != "a" ||
			!got[i].Received.Equal(want[i].Received) || got[i].Priority != 190 || got[i].Drain != "d_a" {
			t.Fatalf("line %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestPages(t *testing.T) {
	r, want := fixture(t)
	for _, desc := range []bool{true, false} {
		want := slices.Clone(want)
		if desc {
			slices.Reverse(want)
		}
		var got []api.Line
		var cursor *query.Position
		for pages := 0; ; pages++ {
			if pages > len(want) {
				t.Fatal("paging does not end")
			}
			var out []byte
			next, err := r.Page(context.Background(), appQuery(t, logsql.Search{App: "a"}), desc, cursor, 13, api.AppendJSON, collect(&out))
			if err != nil {
				t.Fatal(err)
			}
			page := decode(t, out)
			if len(page) > 13 || next != nil && len(page) != 13 {
				t.Fatalf("a page of %d lines, next %v", len(page), next)
			}
			got = append(got, page...)
			if next == nil {
				break
			}
			// The cursor travels as text.
			p, err := query.ParsePosition(next.String())
			if err != nil || p != *next {
				t.Fatalf("ParsePosition(%q) = %v, %v", next.String(), p, err)
			}
			cursor = &p
		}
		if !slices.Equal(messages(got), messages(want)) {
			t.Errorf("desc=%v: pages hold %d lines, want %d in order", desc, len(got), len(want))
		}
	}
}

func TestTail(t *testing.T) {
	r, want := fixture(t)
	for _, n := range []int{1, 10, 37, 38, 500, len(want), len(want) + 10} {
		var out []byte
		if err := r.Tail(context.Background(), appQuery(t, logsql.Search{App: "a"}), n, api.AppendJSON, collect(&out)); err != nil {
			t.Fatal(err)
		}
		w := want[max(0, len(want)-n):]
		if got := decode(t, out); !slices.Equal(messages(got), messages(w)) {
			t.Errorf("tail -n %d: %d lines, want %d", n, len(got), len(w))
		}
	}
}

func TestFilters(t *testing.T) {
	r, all := fixture(t)
	since, until := all[100].Time, all[len(all)-100].Time
	var want []api.Line
	for _, l := range all {
		if l.Dyno == "worker.2" && !l.Time.Before(since) && l.Time.Before(until) {
			want = append(want, l)
		}
	}
	for _, s := range []logsql.Search{
		{App: "a", Dyno: "worker.2", Since: since, Until: until},
		{App: "a", Dyno: "worker", Since: since, Until: until},
		{App: "a", Source: "app", Text: "worker.2", Since: since, Until: until},
	} {
		var out []byte
		if _, err := r.Export(context.Background(), appQuery(t, s), api.AppendJSON, collect(&out)); err != nil {
			t.Fatal(err)
		}
		if got := decode(t, out); !slices.Equal(messages(got), messages(want)) {
			t.Errorf("%+v: %d lines, want %d", s, len(got), len(want))
		}
	}
}

func TestContext(t *testing.T) {
	r, want := fixture(t)
	var out []byte
	if _, err := r.Export(context.Background(), appQuery(t, logsql.Search{App: "a"}), api.AppendJSON, collect(&out)); err != nil {
		t.Fatal(err)
	}
	stored := decode(t, out) // the lines with their ids, in want's order
	for _, i := range []int{0, 3, 500, len(want) - 2, len(want) - 1} {
		id := stored[i].ID
		c, err := r.Context(context.Background(), id, 5, 4, api.AppendJSON)
		if err != nil {
			t.Fatal(err)
		}
		if c.Line.ID != id || c.Line.Message != want[i].Message || decode(t, c.Self)[0].ID != id {
			t.Errorf("context of %d: line %d %q", id, c.Line.ID, c.Line.Message)
		}
		var before, after []api.Line
		for _, b := range c.Before {
			before = append(before, decode(t, b)...)
		}
		for _, b := range c.After {
			after = append(after, decode(t, b)...)
		}
		if w := want[max(0, i-5):i]; !slices.Equal(messages(before), messages(w)) {
			t.Errorf("context of line %d: before %v, want %v", i, messages(before), messages(w))
		}
		if w := want[i+1 : min(len(want), i+5)]; !slices.Equal(messages(after), messages(w)) {
			t.Errorf("context of line %d: after %v, want %v", i, messages(after), messages(w))
		}
	}
	if _, err := r.Context(context.Background(), 1e9, 5, 5, api.AppendJSON); !errors.Is(err, drainpipe.ErrNotFound) {
		t.Errorf("context of a line that does not exist: %v, want ErrNotFound", err)
	}
}

func TestPipesRefused(t *testing.T) {
	r, _ := fixture(t)
	q := appQuery(t, logsql.Search{App: "a", Text: "line | stats count()"})
	_, err := r.Export(context.Background(), q, api.AppendJSON, func([]byte) error { return nil })
	if !errors.Is(err, query.ErrPipes) || !errors.Is(err, logsql.ErrBadQuery) {
		t.Fatalf("export with pipes: %v, want ErrPipes", err)
	}
	// A | inside a phrase is no pipe.
	q = appQuery(t, logsql.Search{App: "a", Text: `"a|b"`})
	if _, err := r.Export(context.Background(), q, api.AppendJSON, func([]byte) error { return nil }); err != nil {
		t.Fatalf("export of a phrase holding |: %v", err)
	}
}

// TestFiledTime: a line whose own time the archive cannot store (2012) is
// filed under the time it was received; --since/--until find it by that time,
// so a window that covers its arrival never hides it, and it shows its own.
func TestFiledTime(t *testing.T) {
	arc := openArchive(t)
	now := time.Now().UTC()
	old := time.Date(2012, 10, 11, 3, 47, 20, 0, time.UTC)
	store(t, arc, []api.Line{
		{App: "a", Time: old, Received: now.Add(-time.Minute), Source: "heroku", Dyno: "router", Priority: 158, Message: "from 2012"},
		{App: "a", Time: now.Add(-30 * time.Second), Received: now.Add(-30 * time.Second), Source: "app", Dyno: "web.1", Priority: 190, Message: "recent"},
	})
	r := query.New(query.Config{Storage: arc})
	for _, tt := range []struct {
		s    logsql.Search
		want []string
	}{
		{logsql.Search{App: "a"}, []string{"from 2012", "recent"}},
		{logsql.Search{App: "a", Since: now.Add(-time.Hour)}, []string{"from 2012", "recent"}},
		{logsql.Search{App: "a", Since: now.Add(-45 * time.Second)}, []string{"recent"}},
		{logsql.Search{App: "a", Until: now.Add(-45 * time.Second)}, []string{"from 2012"}},
		{logsql.Search{App: "a", Since: old.Truncate(24 * time.Hour), Until: old.Truncate(24 * time.Hour).Add(24 * time.Hour)}, nil},
	} {
		var out []byte
		if _, err := r.Export(context.Background(), appQuery(t, tt.s), api.AppendJSON, collect(&out)); err != nil {
			t.Fatal(err)
		}
		got := decode(t, out)
		if !slices.Equal(messages(got), tt.want) {
			t.Errorf("%+v: %q, want %q", tt.s, messages(got), tt.want)
		}
		if len(got) > 0 && got[0].Message == "from 2012" && !got[0].Time.Equal(old) {
			t.Errorf("the 2012 line shows time %s, want %s", got[0].Time, old)
		}
	}
}

// An export stops at the first error of its writer (a client gone), or when its
// context ends, and says so.
func TestExportStops(t *testing.T) {
	r, _ := fixture(t)
	q := appQuery(t, logsql.Search{App: "a"})
	gone := errors.New("client gone")
	n := 0
	_, err := r.Export(context.Background(), q, api.AppendText, func([]byte) error {
		if n++; n == 50 {
			return gone
		}
		return nil
	})
	if !errors.Is(err, gone) || n != 50 {
		t.Errorf("export whose writer fails at line 50: %v after %d lines", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n = 0
	_, err = r.Export(ctx, q, api.AppendText, func([]byte) error {
		if n++; n == 50 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("export whose context ends: %v after %d lines", err, n)
	}
}
