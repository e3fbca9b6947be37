package alertsearch_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/archive/alertsearch"
	"github.com/drainpipe/drainpipe/archive/query"
	"github.com/drainpipe/drainpipe/logsql"
)

const slack = 5 * time.Second

// openTestArchive opens an archive with a few router lines.
func openTestArchive(t testing.TB) *archive.Archive {
	t.Helper()
	arc, err := archive.Open(context.Background(), archive.Config{Dir: filepath.Join(t.TempDir(), "archive"), Retention: -1, PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { arc.Close() })
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	var recs []drainpipe.Record
	for i, msg := range []string{
		`at=error code=H12 desc="Request timeout" dyno=web.1 status=503`,
		`at=error code=H12 desc="Request timeout" dyno=web.2 status=503`,
		`at=error code=H13 desc="Connection closed without response" dyno=web.1 status=503`,
		`at=info method=GET path="/" dyno=web.1 status=200`,
	} {
		recs = append(recs, drainpipe.Record{App: "shop", Drain: "d", Time: t0.Add(time.Duration(i) * time.Second), Received: t0, Source: "heroku", Dyno: "router", Message: msg})
	}
	for i, msg := range []string{`Completed 503 Service Unavailable in 30001ms`, `status=503 from the upstream`, `Started GET "/"`} {
		recs = append(recs, drainpipe.Record{App: "shop", Drain: "d", Time: t0.Add(time.Duration(10+i) * time.Second), Received: t0, Source: "app", Dyno: "web.1", Message: msg})
	}
	recs = append(recs, drainpipe.Record{App: "other", Drain: "d2", Time: t0, Received: t0, Source: "heroku", Dyno: "router", Message: `at=error code=H12 dyno=web.1`})
	if err := arc.Write(context.Background(), []drainpipe.Entry{{Journal: "j", Seq: 1, Batches: []drainpipe.Batch{{Records: recs}}}}); err != nil {
		t.Fatal(err)
	}
	return arc
}

// TestArchiveSearcher: the archive as alert rules read it: counts by group (the
// line's own fields and the message's), every app, samples newest first, the
// preset's query.
func TestArchiveSearcher(t *testing.T) {
	arc := openTestArchive(t)
	now := time.Date(2026, 5, 1, 10, 5, 0, 0, time.UTC)
	lag := time.Duration(0)
	s := alertsearch.New(alertsearch.Config{Archive: arc, Apps: func() []string { return []string{"shop", "other"} },
		Lag: func(context.Context) (time.Duration, error) { return lag, nil }, Slack: slack, Now: func() time.Time { return now }})
	ctx := context.Background()
	win := alert.Search{App: "shop", Query: "code:H*", Start: now.Add(-5 * time.Minute), End: now}
	groups, excess, err := s.Count(ctx, win, []string{"code", "source"}, 100)
	if err != nil || excess != 0 || len(groups) != 2 || groups[0].Count != 2 || strings.Join(groups[0].Values, ",") != "H12,heroku" || groups[1].Values[0] != "H13" {
		t.Fatalf("count by code: %+v, %d, %v", groups, excess, err)
	}
	all := win
	all.App, all.Query = "", "H12"
	if groups, _, err := s.Count(ctx, all, nil, 100); err != nil || len(groups) != 1 || groups[0].Count != 3 {
		t.Errorf("every app: %+v, %v", groups, err)
	}
	if groups, excess, _ := s.Count(ctx, win, []string{"msg.dyno"}, 1); len(groups) != 1 || excess != 1 || groups[0].Values[0] != "web.1" {
		t.Errorf("by the router's dyno field, at most 1 group: %+v, excess %d", groups, excess)
	}
	empty := win
	empty.Query = "R14"
	if groups, _, err := s.Count(ctx, empty, nil, 100); err != nil || len(groups) != 1 || groups[0].Count != 0 {
		t.Errorf("no match still gives the rule's one group: %+v, %v", groups, err)
	}
	sample := win
	sample.Fields = map[string]string{"code": "H12"}
	lines, err := s.Sample(ctx, sample, 5)
	if err != nil || len(lines) != 2 || !strings.Contains(lines[0].Message, "web.2") {
		t.Errorf("sample: %+v, %v", lines, err)
	}
	if err := s.CheckQuery(ctx, "H12 OR"); !errors.Is(err, archive.ErrBadQuery) {
		t.Errorf("a bad query: %v", err)
	}
	lag = 2 * time.Minute
	if w, err := s.Watermark(ctx); err != nil || !w.Equal(now.Add(-lag-slack)) {
		t.Errorf("watermark with a lag of 2 minutes: %v, %v", w, err)
	}
	lag = 0
	if w, err := s.Watermark(ctx); err != nil || !w.Equal(now.Add(-slack)) {
		t.Errorf("watermark caught up: %v, %v", w, err)
	}
	lag = time.Minute // a new message arrives: the watermark does not go back
	if w, err := s.Watermark(ctx); err != nil || !w.Equal(now.Add(-slack)) {
		t.Errorf("watermark went back: %v, %v", w, err)
	}
}

// TestCountsWhatSearchShows: a rule's query is read as `drainpipe search` and the
// search API read it (Heroku's words: status=503, web.1, code=H12), so a rule
// counts exactly the lines that search shows for its window.
func TestCountsWhatSearchShows(t *testing.T) {
	arc := openTestArchive(t)
	now := time.Date(2026, 5, 1, 10, 5, 0, 0, time.UTC)
	s := alertsearch.New(alertsearch.Config{Archive: arc, Apps: func() []string { return []string{"shop", "other"} },
		Lag: func(context.Context) (time.Duration, error) { return 0, nil }, Slack: slack, Now: func() time.Time { return now }})
	reader := query.New(query.Config{Storage: arc, Now: func() time.Time { return now }})
	ctx := context.Background()
	start := now.Add(-5 * time.Minute)
	for _, tt := range []struct {
		query string
		want  int64 // what search shows; checked against the search path below
	}{
		{"status=503", 4},
		{"web.1", 6},
		{"code=H12", 2},
		{"H12 OR H13", 3},
		{`"Request timeout"`, 2},
	} {
		if err := s.CheckQuery(ctx, tt.query); err != nil {
			t.Errorf("%s: CheckQuery: %v", tt.query, err)
			continue
		}
		groups, _, err := s.Count(ctx, alert.Search{App: "shop", Query: tt.query, Start: start, End: now}, nil, 100)
		if err != nil || len(groups) != 1 {
			t.Errorf("%s: Count = %+v, %v", tt.query, groups, err)
			continue
		}
		q, err := logsql.Search{App: "shop", Text: tt.query, Since: start, Until: now}.Query(now)
		if err != nil {
			t.Fatalf("%s: the search's query: %v", tt.query, err)
		}
		var shown int64
		if _, err := reader.Page(ctx, q, true, nil, 1000, api.AppendJSON, func([]byte) error { shown++; return nil }); err != nil {
			t.Fatalf("%s: search: %v", tt.query, err)
		}
		if groups[0].Count != shown || shown != tt.want {
			t.Errorf("%s: the rule counts %d lines, search shows %d, want %d", tt.query, groups[0].Count, shown, tt.want)
		}
	}
}

// TestCountsABusyWindow: a busy app's window holds more lines than one page of
// the archive, and pages the engine's sort budget cuts short: a rule counts
// every line (it counted the first short page only, 1,250 of 600k), and a
// group's sample finds its lines behind many of other groups.
func TestCountsABusyWindow(t *testing.T) {
	arc, err := archive.Open(context.Background(), archive.Config{Dir: filepath.Join(t.TempDir(), "archive"), Retention: -1, PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { arc.Close() })
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	const lines = 30000
	pad := strings.Repeat("x", 1000) // wide lines: a page of 10,000 passes the sort budget
	var recs []drainpipe.Record
	for i := range lines {
		code := "H12"
		if i == lines/2 {
			code = "H13" // one line of its group, in the middle of the window
		}
		recs = append(recs, drainpipe.Record{App: "busy", Drain: "d", Time: t0.Add(time.Duration(i) * time.Millisecond), Received: t0,
			Source: "heroku", Dyno: "router", Message: fmt.Sprintf(`at=error code=%s dyno=web.%d status=503 pad=%s`, code, i%4+1, pad)})
	}
	if err := arc.Write(context.Background(), []drainpipe.Entry{{Journal: "j", Seq: 1, Batches: []drainpipe.Batch{{Records: recs}}}}); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Minute)
	s := alertsearch.New(alertsearch.Config{Archive: arc, Apps: func() []string { return []string{"busy"} },
		Lag: func(context.Context) (time.Duration, error) { return 0, nil }, Slack: slack, Now: func() time.Time { return now }})
	ctx := context.Background()
	win := alert.Search{App: "busy", Query: "status=503", Start: t0, End: now}
	if groups, _, err := s.Count(ctx, win, nil, 100); err != nil || len(groups) != 1 || groups[0].Count != lines {
		t.Errorf("count: %+v, %v; want %d lines", groups, err, lines)
	}
	groups, excess, err := s.Count(ctx, win, []string{"code", "msg.dyno"}, 100)
	if err != nil || excess != 0 || len(groups) != 5 {
		t.Fatalf("count by code and dyno: %+v, excess %d, %v; want 5 groups", groups, excess, err)
	}
	var total int64
	for _, g := range groups {
		total += g.Count
	}
	if total != lines || groups[4].Values[0] != "H13" || groups[4].Count != 1 {
		t.Errorf("count by code and dyno: %+v; want %d lines, H13's one last", groups, lines)
	}
	h13 := win
	h13.Fields = map[string]string{"code": "H13"}
	if got, err := s.Sample(ctx, h13, 5); err != nil || len(got) != 1 || !strings.Contains(got[0].Message, "code=H13") {
		t.Errorf("sample of H13: %d lines, %v; want its one line", len(got), err)
	}
	h12 := win
	h12.Fields = map[string]string{"code": "H12"}
	if got, err := s.Sample(ctx, h12, 5); err != nil || len(got) != 5 || !got[0].Time.Equal(t0.Add((lines-1)*time.Millisecond)) {
		t.Errorf("sample of H12: %d lines, %v; want the newest 5", len(got), err)
	}
}
