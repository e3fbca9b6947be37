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

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
)

// sameRecord compares every field; times by instant, and returned times must be UTC.
func sameRecord(t *testing.T, got, want drainpipe.Record) {
	t.Helper()
	if !got.Time.Equal(want.Time) || !got.Received.Equal(want.Received) {
		t.Errorf("times = %v, %v; want %v, %v", got.Time, got.Received, want.Time, want.Received)
	}
	if (!got.Time.IsZero() && got.Time.Location() != time.UTC) || got.Received.Location() != time.UTC {
		t.Errorf("times not in UTC: %v, %v", got.Time, got.Received)
	}
	if !slices.Equal(got.Attrs, want.Attrs) {
		t.Errorf("attrs = %q, want %q", got.Attrs, want.Attrs)
	}
	got.Time, got.Received, want.Time, want.Received = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	got.Attrs, want.Attrs = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("record =\n%+v\nwant\n%+v", got, want)
	}
}

// everyKind is the realistic fixture (its times are years old: stored with
// the time received as _time) and records that exercise every field.
func everyKind(t *testing.T, app string) []drainpipe.Record {
	recs := fixtureRecords(t, app, received)
	full := drainpipe.Record{Drain: "d_full", App: app, Time: received.Add(-time.Second).In(time.FixedZone("x", -7*3600)),
		Received: received, Priority: 134, Host: "d.7a3f1e9c-1b2d-4e5f-8a9b-0c1d2e3f4a5b", Source: "app", Dyno: "web.2",
		MsgID: "ID47", StructuredData: `[exampleSDID@32473 iut="3" eventSource="Application"]`, Message: "fully loaded line"}
	bad := drainpipe.Record{Drain: "d_full", App: app, Time: received, Received: received, Priority: -1,
		Message: `12 <13>1 trunc\x00\xff`, Malformed: true}
	otel := drainpipe.Record{Drain: "d_full", App: app, Time: received, Received: received, Priority: 14, Source: "app",
		Dyno: "otel", Message: "order created status=201", Attrs: []drainpipe.Attr{
			{Key: "trace_id", Value: "4bf92f3577b34da6a3ce929d0e0e4736"}, {Key: "service.name", Value: "checkout"},
			{Key: "dyno", Value: "collides with the record's"}, {Key: "empty", Value: ""}, {Key: "status", Value: "attr wins"},
		}}
	noTime := drainpipe.Record{Drain: "d_full", App: app, Received: received, Priority: 13, Source: "app", Dyno: "web.1",
		Message: "a line with no time of its own"}
	ahead := drainpipe.Record{Drain: "d_full", App: app, Time: received.Add(72 * time.Hour), Received: received, Priority: 13,
		Source: "app", Dyno: "web.1", Message: "a line from three days ahead"}
	return append(recs, full, bad, otel, noTime, ahead)
}

func TestRoundTripEveryField(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	want := everyKind(t, "cryptic-cliffs")
	write(t, a, entry(1, want...))

	got, err := a.After(context.Background(), "cryptic-cliffs", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("After(0) returned %d lines, want %d", len(got), len(want))
	}
	for i := range want {
		sameRecord(t, got[i].Record, want[i])
		if got[i].ID != int64(i+1) {
			t.Errorf("line %d has id %d, want %d (in order, from 1)", i, got[i].ID, i+1)
		}
	}
	tail, err := a.Tail(context.Background(), "cryptic-cliffs", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(tail) != len(want) {
		t.Fatalf("Tail returned %d lines, want %d", len(tail), len(want))
	}
	found, err := a.Search(context.Background(), archive.Query{App: "cryptic-cliffs", Match: "ID47 OR loaded"})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 {
		t.Fatalf("Search found %d lines, want 1", len(found))
	}
	sameRecord(t, found[0].Record, want[len(want)-5])
}

// TestMessageFields checks the fields read out of messages: router lines'
// pairs (dyno= and host= under msg.), l2met keys, and an attribute beating
// the message to a name.
func TestMessageFields(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	write(t, a, entry(1, everyKind(t, "app")...))
	for _, tt := range []struct {
		match string
		want  map[string]string
	}{
		{`code:=H12`, map[string]string{"at": "error", "code": "H12", "desc": "Request timeout", "method": "GET", "path": "/",
			"msg.host": "example-app-1234567890ab.herokuapp.com", "request_id": "8601b555-6a83-4c12-8269-97c8e32cdb22",
			"fwd": "204.204.204.204", "msg.dyno": "web.1", "service": "30000ms", "status": "503", "bytes": "0",
			"protocol": "http"}},
		{`"measure#db.latency":=4ms`, map[string]string{"measure#db.latency": "4ms", "count#db.vacuum": "1", "sample#db.size": "100GB",
			"msg.source": "prod"}},
		{`dyno:=otel`, map[string]string{"msg.status": "201"}},
	} {
		lines, err := a.Search(context.Background(), archive.Query{App: "app", Match: tt.match})
		if err != nil {
			t.Fatalf("%s: %v", tt.match, err)
		}
		if len(lines) != 1 {
			t.Fatalf("%s: found %d lines, want 1", tt.match, len(lines))
		}
		got := map[string]string{}
		for _, f := range lines[0].Fields {
			got[f.Key] = f.Value
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%s: field %s = %q, want %q (fields %v)", tt.match, k, got[k], v, lines[0].Fields)
			}
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: fields %v, want %v", tt.match, got, tt.want)
		}
	}
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
		{"h12", nil},
		{"i(h12)", []string{"code=H12"}},
		{"H12 OR H13", []string{"code=H12", "code=H13"}},
		{`"Request timeout"`, []string{"Request timeout"}},
		{`"timeout Request"`, nil},
		{"R1*", []string{"R10", "R12", "R14", "R15"}},
		{"quota exceeded", []string{"R14", "R15"}},
		{`"quota exceeded"`, []string{"R14"}},
		{"exceeded -vastly", []string{"R14"}},
		{"status:=503", []string{"code=H10", "code=H12", "code=H13", "code=H18", "code=H80"}},
		{"code:H1*", []string{"code=H12", "code=H13", "code=H18", "code=H10"}},
		{`dyno:=worker.1`, []string{"mem=528MB", "R14", "R15", "R12"}},
		{`path:="/crash"`, []string{"H10"}},
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
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.Message
	}
	return out
}

func TestSearchFilters(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	recs := seqLines("app", received, 10)
	recs[3].Dyno, recs[4].Source, recs[5].Malformed = "worker.1", "heroku", true
	write(t, a, entry(1, recs...))
	yes, no := true, false
	for name, tt := range map[string]struct {
		q    archive.Query
		want []int
	}{
		"dyno":          {archive.Query{Dyno: "worker.1"}, []int{3}},
		"source":        {archive.Query{Source: "heroku"}, []int{4}},
		"malformed":     {archive.Query{Malformed: &yes}, []int{5}},
		"well-formed":   {archive.Query{Malformed: &no, Limit: 3}, []int{9, 8, 7}},
		"since":         {archive.Query{Since: recs[7].Time}, []int{9, 8, 7}},
		"until":         {archive.Query{Until: recs[2].Time}, []int{1, 0}},
		"limit":         {archive.Query{Limit: 2}, []int{9, 8}},
		"match+dyno":    {archive.Query{Match: "line", Dyno: "web.1", Limit: 2}, []int{9, 8}},
		"page":          {archive.Query{Before: 9, Limit: 3}, []int{7, 6, 5}},
		"page+since":    {archive.Query{Before: 9, Limit: 30, Since: recs[6].Time}, []int{7, 6}},
		"page past end": {archive.Query{Before: 1}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			tt.q.App = "app"
			lines, err := a.Search(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, l := range lines {
				got = append(got, int(l.ID-1))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got lines %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBadQuery(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	for _, q := range []string{`"unterminated`, "(", "status:>", "| stats", "foo | nosuchpipe"} {
		_, err := a.Search(context.Background(), archive.Query{App: "app", Match: q})
		if !errors.Is(err, archive.ErrBadQuery) {
			t.Errorf("Search(%q) = %v, want ErrBadQuery", q, err)
		}
	}
	if _, err := a.Search(context.Background(), archive.Query{}); !errors.Is(err, archive.ErrBadQuery) {
		t.Errorf("Search without an app = %v, want ErrBadQuery", err)
	}
}

// TestLongMessage stores a message over the row limit as several rows and
// reads it back whole, and counts it once.
func TestLongMessage(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	long := strings.Repeat("é0123456789", 150_000) // 1.65 MB, two-byte runes
	rec := drainpipe.Record{App: "app", Time: received, Received: received, Priority: 13, Message: "status=500 " + long}
	write(t, a, entry(1, rec, seqLines("app", received, 1)[0]))
	lines, err := a.After(context.Background(), "app", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var whole strings.Builder
	var parts []string
	for _, l := range lines[:len(lines)-1] {
		whole.WriteString(l.Message)
		parts = append(parts, l.Part)
	}
	if whole.String() != rec.Message {
		t.Errorf("read back %d bytes in %d rows, want the %d bytes written", whole.Len(), len(lines)-1, len(rec.Message))
	}
	if !slices.Equal(parts, []string{"1/4", "2/4", "3/4", "4/4"}) {
		t.Errorf("parts = %q", parts)
	}
	if lines[len(lines)-1].ID != 5 {
		t.Errorf("the next line has id %d, want 5 (after the four rows)", lines[len(lines)-1].ID)
	}
	st, err := a.Stats(context.Background(), "app")
	if err != nil || st.Lines != 2 {
		t.Errorf("Stats = %+v, %v; want 2 lines", st, err)
	}
	found, err := a.Search(context.Background(), archive.Query{App: "app", Match: "status:=500"})
	if err != nil || len(found) != 1 || found[0].Part != "1/4" {
		t.Errorf("status:=500 found %d lines (%v), want the first part", len(found), err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	open(t, archive.Config{Dir: filepath.Join(t.TempDir(), "x")}) // a working one, for contrast
	for name, cfg := range map[string]archive.Config{
		"no dir":          {},
		"dir is a file":   {Dir: "testdata/heroku-drain-realistic.lines.txt"},
		"under a file":    {Dir: filepath.Join("testdata/heroku-drain-realistic.lines.txt", "x")},
		"bad import file": {Dir: filepath.Join(t.TempDir(), "y"), Import: "testdata/heroku-drain-realistic.lines.txt"},
		"unreadable state": {Dir: func() string {
			d := filepath.Join(t.TempDir(), "z")
			mustWrite(t, filepath.Join(d, "state.json"), "{not json")
			return d
		}()},
		"newer state": {Dir: func() string {
			d := filepath.Join(t.TempDir(), "v")
			mustWrite(t, filepath.Join(d, "state.json"), `{"version": 99}`)
			return d
		}()},
	} {
		cfg.PruneInterval = -1
		if a, err := archive.Open(context.Background(), cfg); err == nil {
			a.Close()
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

// TestDocumentedQueries runs the LogsQL examples of the README and the package
// doc, so that they stay valid.
func TestDocumentedQueries(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	write(t, a, entry(1, everyKind(t, "myapp")...))
	for match, want := range map[string]int{
		`H12`:                          1,
		`i(h12) OR R14`:                2,
		`"Request timeout"`:            1,
		`status:=503 method:=POST`:     1,
		`path:="/api/"* bytes:>100000`: 0,
		`dyno:=web.1 -"GET /healthz"`:  16,
		`"measure#db.query":*`:         0,
		`"measure#db.latency":*`:       1,
		`_time:1h dyno:="web.1"`:       0,
	} {
		lines, err := a.Search(context.Background(), archive.Query{App: "myapp", Match: match, Limit: 1000})
		if err != nil || len(lines) != want {
			t.Errorf("%s: %d lines, %v; want %d", match, len(lines), err, want)
		}
	}
	for _, q := range []string{
		`app:="myapp" path:="/slow"* | stats by (status) count()`,
		`app:="myapp" | stats by (msg.dyno) quantile(0.99, service) p99`,
	} {
		pq, err := archive.ParseQuery(q, time.Now())
		if err == nil {
			err = a.Query(context.Background(), pq, func([]logstorage.BlockColumn) error { return nil })
		}
		if err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
}

// TestOddAppNames: an app name is data, never LogsQL.
func TestOddAppNames(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	for i, app := range []string{`quo"te`, `back\slash`, "ünïcode", "sp ace) OR *", "nl\nx", "{app=x}"} {
		write(t, a, entry(uint64(i+1), seqLines(app, received, 2)...))
		lines, err := a.Tail(context.Background(), app, 10)
		if err != nil || len(lines) != 2 || lines[0].App != app {
			t.Errorf("Tail(%q) = %d lines, %v", app, len(lines), err)
		}
		found, err := a.Search(context.Background(), archive.Query{App: app, Match: "line"})
		if err != nil || len(found) != 2 {
			t.Errorf("Search(%q) = %d lines, %v", app, len(found), err)
		}
	}
}
