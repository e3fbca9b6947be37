package logplex_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/logplex"
)

// benchBody builds a ~100 KB body of ~250-byte lines shaped like router and app logs.
func benchBody() ([]byte, int) {
	ts := time.Date(2022, 6, 13, 14, 52, 23, 621815000, time.UTC)
	var body []byte
	n := 0
	for len(body) < 100_000 {
		r := drainpipe.Record{Priority: 158, Time: ts.Add(time.Duration(n) * time.Millisecond), Source: "heroku", Dyno: "router",
			Message: fmt.Sprintf(`at=info method=GET path="/items/%d" host=cryptic-cliffs-27764.herokuapp.com request_id=59da6323-2bc4-4143-8677-cc66ccfb%04d fwd="181.167.87.140" dyno=web.1 connect=0ms service=%dms status=200 bytes=6979 protocol=https`, n, n, n%40)}
		if n%2 == 1 {
			r.Priority, r.Source, r.Dyno = 190, "app", "web.1"
			r.Message = fmt.Sprintf(`[GIN] 2022/06/13 - 14:52:23 | 200 | 1.234ms | 181.167.87.140 | GET "/api/v1/items/%d" user_id=%d measure#db.query=%dms count#items.read=1 sample#queue.depth=%d`, n, n*7, n%13, n%5)
		}
		body = logplex.AppendFrame(body, logplex.AppendMessage(nil, r))
		n++
	}
	return body, n
}

func BenchmarkAppendRecords(b *testing.B) {
	body, lines := benchBody()
	opt := logplex.Options{Received: time.Now()}
	recs := make([]drainpipe.Record, 0, lines)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		recs, _ = logplex.AppendRecords(recs[:0], body, opt)
	}
	if len(recs) != lines {
		b.Fatalf("%d records, want %d", len(recs), lines)
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
}
