package query_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/archive/query"
	"github.com/drainpipe/drainpipe/logsql"
)

func TestHits(t *testing.T) {
	r, lines := fixture(t)
	start := lines[0].Time.Truncate(time.Hour).Add(90 * time.Minute) // not on an interval: the first one starts before it
	end := lines[len(lines)-1].Time.Add(time.Nanosecond)
	step := time.Hour
	first := start.Truncate(step)
	n := int((end.Sub(first) + step - 1) / step)
	want := map[string][]int64{"web.1": make([]int64, n), "worker.2": make([]int64, n)}
	var total int64
	for _, l := range lines {
		if l.Time.Before(start) || !l.Time.Before(end) {
			continue
		}
		want[l.Dyno][int(l.Time.Sub(first)/step)]++
		total++
	}
	q := appQuery(t, logsql.Search{App: "a"})
	h, err := r.Hits(context.Background(), q, start, end, step, "dyno", 10)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Start.Equal(first) || len(h.Times) != n || h.Total != total || len(h.Series) != 2 || h.Field != "dyno" || h.Step != 3600 {
		t.Fatalf("hits: start %s, %d intervals, total %d, %d series; want %s, %d, %d, 2", h.Start, len(h.Times), h.Total, len(h.Series), first, n, total)
	}
	if h.Series[0].Value != "web.1" || h.Series[0].Total < h.Series[1].Total {
		t.Errorf("series not most lines first: %s %d, %s %d", h.Series[0].Value, h.Series[0].Total, h.Series[1].Value, h.Series[1].Total)
	}
	for _, s := range h.Series {
		for i := range s.Counts {
			if s.Counts[i] != want[s.Value][i] {
				t.Fatalf("%s at %s: %d lines, want %d", s.Value, h.Times[i], s.Counts[i], want[s.Value][i])
			}
		}
	}
	// One series, and the top values with the rest summed.
	one, err := r.Hits(context.Background(), q, start, end, step, "", 0)
	if err != nil || len(one.Series) != 1 || one.Series[0].Total != total {
		t.Errorf("hits in one series: %+v, %v", one.Series, err)
	}
	topped, err := r.Hits(context.Background(), q, start, end, step, "dyno", 1)
	if err != nil || len(topped.Series) != 2 || !topped.Series[1].Other || topped.Series[1].Total != h.Series[1].Total {
		t.Errorf("hits, top 1: %+v, %v", topped.Series, err)
	}
	// Nothing in the range: zero counts, not an error.
	later := end.Truncate(step).Add(2 * step)
	empty, err := r.Hits(context.Background(), q, later, later.Add(2*step), step, "", 0)
	if err != nil || empty.Total != 0 || len(empty.Series) != 1 || len(empty.Series[0].Counts) != 2 {
		t.Errorf("hits of an empty range: %+v, %v", empty, err)
	}
	if _, err := r.Hits(context.Background(), q, start, end, time.Millisecond, "", 0); err == nil || !strings.Contains(err.Error(), "take a longer step") {
		t.Errorf("too many intervals: %v", err)
	}
}

func TestFacets(t *testing.T) {
	r, lines := fixture(t)
	count := map[string]int64{}
	for _, l := range lines {
		count[l.Dyno]++
	}
	f, err := r.Facets(context.Background(), appQuery(t, logsql.Search{App: "a"}), []string{"dyno", "nosuchfield"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := api.Facets{Total: int64(len(lines)), Facets: []api.Facet{
		{Field: "dyno", Values: []api.FacetValue{{Value: "web.1", Count: count["web.1"]}}, Other: count["worker.2"]},
		{Field: "nosuchfield", Values: []api.FacetValue{{Value: "", Count: int64(len(lines))}}},
	}}
	if got, w := strings.TrimSpace(string(mustJSON(t, f))), strings.TrimSpace(string(mustJSON(t, want))); got != w {
		t.Errorf("facets\n got %s\nwant %s", got, w)
	}
}

func TestAutoStep(t *testing.T) {
	now := time.Now()
	for _, tt := range []struct {
		span time.Duration
		want time.Duration
	}{{time.Minute, time.Second}, {time.Hour, 30 * time.Second}, {2 * time.Hour, time.Minute}, {24 * time.Hour, 30 * time.Minute}, {30 * 24 * time.Hour, 6 * time.Hour}} {
		if got := query.AutoStep(now.Add(-tt.span), now); got != tt.want {
			t.Errorf("AutoStep over %s = %s, want %s", tt.span, got, tt.want)
		}
	}
}
