package query_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/archive/query"
	"github.com/drainpipe/drainpipe/logsql"
)

// benchLines are n lines of one app over span, oldest first: two router lines
// for one line of a web dyno.
func benchLines(n int, span time.Duration) []api.Line {
	start := time.Now().UTC().Add(-span - time.Minute)
	lines := make([]api.Line, n)
	for i := range lines {
		at := start.Add(time.Duration(int64(span) * int64(i) / int64(n)))
		lines[i] = api.Line{App: "bench", Drain: "d_bench", Time: at, Received: at, Source: "heroku", Dyno: "router", Priority: 158,
			Message: fmt.Sprintf(`at=info method=GET path="/items/%d" host=bench.herokuapp.com request_id=%08x-%04d fwd="10.0.0.1" dyno=web.%d connect=0ms service=%dms status=200 bytes=%d protocol=https`,
				i%400, i/400, i%400, i%4+1, i%97, 1000+i%400)}
		if i%3 == 2 { // an app line
			lines[i].Source, lines[i].Dyno, lines[i].Priority = "app", fmt.Sprintf("web.%d", i%4+1), 190
			lines[i].Message = fmt.Sprintf(`Completed 200 OK in %dms (Views: 1.2ms | ActiveRecord: 0.4ms)`, i%97)
		}
	}
	return lines
}

func BenchmarkExport(b *testing.B) {
	arc := openArchive(b)
	const n = 200_000
	store(b, arc, benchLines(n, 10*time.Second))
	q, err := logsql.Search{App: "bench"}.Query(time.Now())
	if err != nil {
		b.Fatal(err)
	}
	for _, rows := range []int{5_000, 20_000, 100_000} {
		r := query.New(query.Config{Storage: arc, WindowRows: rows})
		for _, f := range []struct {
			name   string
			format query.Format
		}{{"text", api.AppendText}, {"json", api.AppendJSON}} {
			b.Run(fmt.Sprintf("window=%d/%s", rows, f.name), func(b *testing.B) {
				for b.Loop() {
					got, err := r.Export(context.Background(), q, f.format, func([]byte) error { return nil })
					if err != nil || got != n {
						b.Fatalf("exported %d lines, %v", got, err)
					}
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "lines/s")
			})
		}
	}
}

// BenchmarkPage times a search page of 100 lines over a million lines spread
// over two hours (ten of them with a rare word): the newest lines, a rare word,
// one dyno's last hour (by --dyno, and by the Heroku word web.1, which also
// reads router messages), the oldest lines, and a tail of 1000.
func BenchmarkPage(b *testing.B) {
	arc := openArchive(b)
	const n = 1_000_000
	lines := benchLines(n, 2*time.Hour)
	for i := range 10 {
		lines[i*n/10].Message += " zebracorn"
	}
	store(b, arc, lines)
	r := query.New(query.Config{Storage: arc})
	now := time.Now()
	for _, tt := range []struct {
		name   string
		s      logsql.Search
		oldest bool
		want   int
	}{
		{"newest", logsql.Search{App: "bench"}, false, 100},
		{"rare-word", logsql.Search{App: "bench", Text: "zebracorn"}, false, 10},
		{"dyno-last-hour", logsql.Search{App: "bench", Dyno: "web.1", Since: now.Add(-time.Hour)}, false, 100},
		{"word-dyno-last-hour", logsql.Search{App: "bench", Text: "web.1", Since: now.Add(-time.Hour)}, false, 100},
		{"oldest", logsql.Search{App: "bench"}, true, 100},
	} {
		q, err := tt.s.Query(now)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				got := 0
				if _, err := r.Page(context.Background(), q, !tt.oldest, nil, 100, api.AppendJSON, func([]byte) error { got++; return nil }); err != nil || got != tt.want {
					b.Fatalf("page: %d lines, %v", got, err)
				}
			}
		})
	}
	q, _ := logsql.Search{App: "bench"}.Query(now)
	b.Run("tail-1000", func(b *testing.B) {
		for b.Loop() {
			if err := r.Tail(context.Background(), q, 1000, api.AppendText, func([]byte) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
	})
}
