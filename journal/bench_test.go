package journal_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/journal"
)

// BenchmarkAppend: 16 writers append batches of 400 router lines (what one
// logplex request holds) to an embedded journal with no sink. It reports the
// lines appended per second and, through ReportAllocs, the bytes the process
// allocated per Append (the embedded NATS server's included): what the
// ingest path gives the garbage collector to do. Run it with a fixed count
// (-benchtime 3000x): every Append is kept on disk.
func BenchmarkAppend(b *testing.B) {
	j := open(b, journal.Config{})
	now := time.Now().UTC()
	batch := &drainpipe.Batch{Drain: "d_bench", App: "bench", Received: now}
	for i := range 400 {
		batch.Records = append(batch.Records, drainpipe.Record{
			Drain: "d_bench", App: "bench", Received: now, Time: now.Add(time.Duration(i) * time.Microsecond),
			Priority: 158, Host: "host", Source: "heroku", Dyno: "router",
			Message: fmt.Sprintf(`at=info method=GET path="/items/%d" host=bench.herokuapp.com request_id=%08x-1b2c-4d5e-8f90-%012x fwd="10.1.%d.%d" dyno=web.%d connect=%dms service=%dms status=200 bytes=%d protocol=https`,
				i, i*7919, i*104729, i%256, i*3%256, i%4+1, i%5, i%300, 1000+i),
		})
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(8) // 16 writers on 2 CPUs
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := j.Append(ctx, batch); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*len(batch.Records))/time.Since(start).Seconds(), "lines/s")
}
