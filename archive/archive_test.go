package archive_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
)

var received = time.Date(2026, 11, 20, 12, 0, 0, 123456789, time.UTC)

// sameRecord compares every field; times by instant, and returned times must be UTC.
func sameRecord(t *testing.T, got, want drainpipe.Record) {
	t.Helper()
	if !got.Time.Equal(want.Time) || !got.Received.Equal(want.Received) {
		t.Errorf("times = %v, %v; want %v, %v", got.Time, got.Received, want.Time, want.Received)
	}
	if got.Time.Location() != time.UTC || got.Received.Location() != time.UTC {
		t.Errorf("times not in UTC: %v, %v", got.Time, got.Received)
	}
	got.Time, got.Received, want.Time, want.Received = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("record =\n%+v\nwant\n%+v", got, want)
	}
}

func TestRoundTripEveryField(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	want := fixtureRecords(t, "cryptic-cliffs", received)
	full := drainpipe.Record{Drain: "d_full", App: "cryptic-cliffs", Time: time.Date(2026, 11, 20, 11, 59, 59, 1, time.FixedZone("x", -7*3600)),
		Received: received, Priority: 134, Host: "d.7a3f1e9c-1b2d-4e5f-8a9b-0c1d2e3f4a5b", Source: "app", Dyno: "web.2",
		MsgID: "ID47", StructuredData: `[exampleSDID@32473 iut="3" eventSource="Application"]`, Message: "fully loaded line", Malformed: false}
	bad := drainpipe.Record{Drain: "d_full", App: "cryptic-cliffs", Time: received, Received: received, Priority: -1,
		Message: `12 <13>1 trunc\x00\xff`, Malformed: true}
	want = append(want, full, bad)
	write(t, a, entry(1, want...))

	tail, err := a.Tail(context.Background(), "cryptic-cliffs", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(tail) != len(want) {
		t.Fatalf("Tail returned %d lines, want %d", len(tail), len(want))
	}
	for i := range want {
		sameRecord(t, tail[i].Record, want[i])
		if i > 0 && tail[i].ID <= tail[i-1].ID {
			t.Errorf("Tail IDs not increasing: %d after %d", tail[i].ID, tail[i-1].ID)
		}
	}
	after, err := a.After(context.Background(), "cryptic-cliffs", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, tail) {
		t.Errorf("After(0) differs from Tail")
	}
	found, err := a.Search(context.Background(), archive.Query{App: "cryptic-cliffs", Match: "ID47 OR loaded"})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 {
		t.Fatalf("Search found %d lines, want 1", len(found))
	}
	sameRecord(t, found[0].Record, full)
}

func TestSearchMatch(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	write(t, a, entry(1, fixtureRecords(t, "app1", received)...))
	write(t, a, entry(2, fixtureRecords(t, "app2", received)...)) // another app's lines must never show

	tests := []struct {
		match string
		want  []string // substrings, one per expected line, in any order
	}{
		{"H12", []string{"code=H12"}},
		{"h12", []string{"code=H12"}},
		{"H12 OR H13", []string{"code=H12", "code=H13"}},
		{`"Request timeout"`, []string{"Request timeout"}},
		{`"timeout Request"`, nil},
		{"R1*", []string{"R10", "R12", "R14", "R15"}},
		{"quota exceeded", []string{"R14", "R15"}},
		{`"quota exceeded"`, []string{"R14"}},
		{"exceeded NOT vastly", []string{"R14"}},
		{`NEAR("Memory" "exceeded", 1)`, []string{"R14"}},
		{"memory_quota", []string{"memory_quota=512", "R14", "R15"}}, // unicode61 splits on "_": the phrase "memory quota"
		{"nosuchwordanywhere", nil},
	}
	for _, tt := range tests {
		t.Run(tt.match, func(t *testing.T) {
			lines, err := a.Search(context.Background(), archive.Query{App: "app1", Match: tt.match, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(lines) != len(tt.want) {
				t.Fatalf("found %d lines, want %d: %q", len(lines), len(tt.want), messages(lines))
			}
			for _, w := range tt.want {
				if !slices.ContainsFunc(lines, func(l archive.Line) bool { return strings.Contains(l.Message, w) }) {
					t.Errorf("no line with %q in %q", w, messages(lines))
				}
			}
			for _, l := range lines {
				if l.App != "app1" {
					t.Errorf("line of app %q", l.App)
				}
			}
		})
	}
}

func messages(lines []archive.Line) []string {
	var out []string
	for _, l := range lines {
		out = append(out, l.Message)
	}
	return out
}

func TestSearchBadQuery(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	write(t, a, entry(1, fixtureRecords(t, "app", received)...))
	tests := []struct{ match, msg string }{
		{`"unterminated`, "bad search query: unterminated string"},
		{`AND`, `bad search query: syntax error near "AND"`},
		{`nosuchcolumn:H12`, "bad search query: no such column: nosuchcolumn"},
		{`H12 OR`, ""},
		{`(H12`, ""},
		{`NEAR(`, ""},
		{`*`, ""},
		{`H12 + ^`, ""},
	}
	for _, tt := range tests {
		// The same answer whether or not the app has lines to search.
		for _, app := range []string{"app", "empty"} {
			t.Run(app+" "+tt.match, func(t *testing.T) {
				_, err := a.Search(context.Background(), archive.Query{App: app, Match: tt.match})
				if !errors.Is(err, archive.ErrBadQuery) {
					t.Fatalf("err = %v, want ErrBadQuery", err)
				}
				msg := err.Error()
				if tt.msg != "" && msg != tt.msg {
					t.Errorf("message %q, want %q", msg, tt.msg)
				}
				if strings.Contains(msg, "SQL logic error") || strings.Contains(msg, "(1)") {
					t.Errorf("message %q leaks driver noise", msg)
				}
			})
		}
	}
	if _, err := a.Search(context.Background(), archive.Query{Match: "H12"}); !errors.Is(err, archive.ErrBadQuery) {
		t.Errorf("no app: err = %v, want ErrBadQuery", err)
	}
}

// seqLines returns n records of app, one second apart from base, with the
// given source/dyno pattern and the index in the message.
func seqLines(app string, base time.Time, n int) []drainpipe.Record {
	recs := make([]drainpipe.Record, n)
	for i := range recs {
		src, dyno := "app", "web.1"
		if i%3 == 0 {
			src, dyno = "heroku", "router"
		}
		recs[i] = drainpipe.Record{App: app, Drain: "d", Time: base.Add(time.Duration(i) * time.Second), Received: received,
			Priority: 190, Host: "host", Source: src, Dyno: dyno, Message: "line " + string(rune('a'+i%26)) + " n" + strings.Repeat("x", i%5),
			Malformed: i%10 == 9}
	}
	return recs
}

func TestSearchFilters(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	write(t, a, entry(1, seqLines("app", base, 30)...))
	yes, no := true, false
	tests := []struct {
		name string
		q    archive.Query
		want int
	}{
		{"all", archive.Query{}, 30},
		{"since", archive.Query{Since: base.Add(10 * time.Second)}, 20},
		{"until", archive.Query{Until: base.Add(10 * time.Second)}, 10},
		{"since until", archive.Query{Since: base.Add(10 * time.Second), Until: base.Add(12 * time.Second)}, 2},
		{"since other zone", archive.Query{Since: base.Add(10 * time.Second).In(time.FixedZone("y", 3600))}, 20},
		{"source", archive.Query{Source: "heroku"}, 10},
		{"dyno", archive.Query{Dyno: "web.1"}, 20},
		{"source dyno", archive.Query{Source: "app", Dyno: "router"}, 0},
		{"malformed", archive.Query{Malformed: &yes}, 3},
		{"well formed", archive.Query{Malformed: &no}, 27},
		{"match and filter", archive.Query{Match: "line", Dyno: "router", Since: base.Add(15 * time.Second)}, 5},
		{"limit", archive.Query{Limit: 7}, 7},
		{"other app", archive.Query{App: "other"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.q.App == "" {
				tt.q.App = "app"
			}
			if tt.q.Limit == 0 {
				tt.q.Limit = 1000
			}
			lines, err := a.Search(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(lines) != tt.want {
				t.Errorf("found %d lines, want %d", len(lines), tt.want)
			}
			for _, l := range lines {
				if (!tt.q.Since.IsZero() && l.Time.Before(tt.q.Since)) || (!tt.q.Until.IsZero() && !l.Time.Before(tt.q.Until)) ||
					(tt.q.Source != "" && l.Source != tt.q.Source) || (tt.q.Dyno != "" && l.Dyno != tt.q.Dyno) ||
					(tt.q.Malformed != nil && l.Malformed != *tt.q.Malformed) {
					t.Errorf("line %+v does not satisfy %+v", l, tt.q)
				}
			}
		})
	}
}

// TestSearchOrderAndPaging writes lines whose times do not follow their
// arrival, then pages through them: newest first by time then ID, each line
// exactly once.
func TestSearchOrderAndPaging(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var recs []drainpipe.Record
	for i := range 57 {
		// Times jump around and repeat: 0, 7, 14 ... mod 20 seconds.
		recs = append(recs, drainpipe.Record{App: "app", Time: base.Add(time.Duration(i*7%20) * time.Second), Received: received, Message: "paged line"})
	}
	write(t, a, entry(1, recs[:30]...), entry(2, recs[30:]...))

	for _, match := range []string{"", "paged"} {
		var all []archive.Line
		q := archive.Query{App: "app", Match: match, Limit: 10}
		for {
			page, err := a.Search(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			q.Before = page[len(page)-1].ID
		}
		if len(all) != len(recs) {
			t.Fatalf("match %q: paged through %d lines, want %d", match, len(all), len(recs))
		}
		for i := 1; i < len(all); i++ {
			p, c := all[i-1], all[i]
			if c.Time.After(p.Time) || (c.Time.Equal(p.Time) && c.ID >= p.ID) {
				t.Errorf("match %q: line %d (%v, %d) after (%v, %d)", match, i, c.Time, c.ID, p.Time, p.ID)
			}
		}
	}
}

func TestDuplicateEntriesSkipped(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "archive.db")
	a := open(t, archive.Config{Path: path})
	e1 := entry(1, drainpipe.Record{App: "app", Time: received, Received: received, Message: "one"})
	e2 := entry(2, drainpipe.Record{App: "app", Time: received, Received: received, Message: "two"})
	e3 := entry(3, drainpipe.Record{App: "app", Time: received, Received: received, Message: "three"})
	write(t, a, e1, e2)
	write(t, a, e1, e2) // redelivered whole
	write(t, a, e2, e3) // redelivered in part
	write(t, a)         // nothing
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// The applied Seq survives a restart: a crash between commit and ack.
	b := open(t, archive.Config{Path: path})
	write(t, b, e1, e2, e3)
	lines, err := b.Tail(context.Background(), "app", 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := messages(lines); !slices.Equal(got, []string{"one", "two", "three"}) {
		t.Errorf("stored %q, want one, two, three", got)
	}
	st, err := b.Stats(context.Background(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines != 3 {
		t.Errorf("Stats.Lines = %d, want 3", st.Lines)
	}
}

func TestOddBytes(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	long := strings.Repeat("0123456789abcdef ", 100<<10/17) + "needle"
	msgs := []string{
		"héllo wörld ünïcode 日本語のログ 🚀 emoji",
		"nul\x00byte inside\x00",
		"control \x01\x02\x1b[31mred\x1b[0m\t\r\n bell\a",
		"invalid utf8 \xff\xfe\xc3 bytes",
		long,
		"",
		"'; DROP TABLE lines; --",
	}
	var recs []drainpipe.Record
	for _, m := range msgs {
		recs = append(recs, drainpipe.Record{App: "app\x00ünï", Host: "h\x00", Time: received, Received: received, Message: m})
	}
	write(t, a, entry(1, recs...))
	lines, err := a.Tail(context.Background(), "app\x00ünï", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != len(recs) {
		t.Fatalf("got %d lines, want %d", len(lines), len(recs))
	}
	for i := range recs {
		sameRecord(t, lines[i].Record, recs[i])
	}
	for match, want := range map[string]string{"日本語のログ": msgs[0], "WÖRLD": msgs[0], "needle": long, "bell": msgs[2], "inside": msgs[1], "DROP": msgs[6]} {
		found, err := a.Search(context.Background(), archive.Query{App: "app\x00ünï", Match: match})
		if err != nil {
			t.Fatalf("Search %q: %v", match, err)
		}
		if len(found) != 1 || found[0].Message != want {
			t.Errorf("Search %q found %d lines", match, len(found))
		}
	}
}

// TestSearchManyMatches covers both ways Search runs a query, fetching the
// matches (few) or walking the app's lines (many): same order, same lines.
func TestSearchManyMatches(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var recs []drainpipe.Record
	for i := range 6000 {
		msg := "common word"
		if i%1000 == 1 {
			msg = "common rare word"
		}
		recs = append(recs, drainpipe.Record{App: "app", Time: base.Add(time.Duration(i*7919%6000) * time.Millisecond), Received: received, Message: msg})
	}
	write(t, a, entry(1, recs...))
	all, err := a.Search(context.Background(), archive.Query{App: "app", Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		match string
		keep  func(archive.Line) bool
	}{
		{"common", func(archive.Line) bool { return true }},
		{"rare", func(l archive.Line) bool { return strings.Contains(l.Message, "rare") }},
	} {
		var want []archive.Line
		for _, l := range all {
			if tt.keep(l) && len(want) < 20 {
				want = append(want, l)
			}
		}
		got, err := a.Search(context.Background(), archive.Query{App: "app", Match: tt.match, Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Search %q: got %d lines, want %d, or in another order", tt.match, len(got), len(want))
		}
	}
}
