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

// benchLines are n router lines of one app over span, oldest first.
func benchLines(n int, span time.Duration) []api.Line {
	start := time.Now().UTC().Add(-span - time.Minute)
	lines := make([]api.Line, n)
	for i := range lines {
		at := start.Add(time.Duration(int64(span) * int64(i) / int64(n)))
		lines[i] = api.Line{App: "bench", Drain: "d_bench", Time: at, Received: at, Source: "heroku", Dyno: "router", Priority: 158,
			Message: fmt.Sprintf(`at=info method=GET path="/items/%d" host=bench.herokuapp.com request_id=%08x-%04d fwd="10.0.0.1" dyno=web.%d connect=0ms service=%dms status=200 bytes=%d protocol=https`,
				i%400, i/400, i%400, i%4+1, i%97, 1000+i%400)}
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
