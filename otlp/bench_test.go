package otlp_test

import (
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/bench"
	"github.com/drainpipe/drainpipe/logplex"
	"github.com/drainpipe/drainpipe/otlp"
)

// BenchmarkDecode reads a request of 400 router lines of ~250 bytes into records,
// as the receivers do: logplex frames (bench.Body) and an OTLP/HTTP protobuf
// request of the same lines with a trace context and two attributes each
// (bench.OTLPBody), decoded with pdata and mapped. Compare lines/s within one run.
func BenchmarkDecode(b *testing.B) {
	const lines = 400
	now := time.Now()
	b.Run("logplex", func(b *testing.B) {
		body := bench.Body(1, lines, 250, now)
		recs := make([]drainpipe.Record, 0, lines)
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			recs, _ = logplex.AppendRecords(recs[:0], body, logplex.Options{Received: now})
			if len(recs) != lines {
				b.Fatal(len(recs))
			}
		}
		b.ReportMetric(float64(b.N)*lines/b.Elapsed().Seconds(), "lines/s")
	})
	b.Run("otlp", func(b *testing.B) {
		body := bench.OTLPBody(1, lines, 250, now)
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			ld, err := otlp.DecodeLogs(body, otlp.Protobuf)
			if err != nil {
				b.Fatal(err)
			}
			if m := otlp.LogRecords(ld, testDrain, received); len(m.Records) != lines {
				b.Fatal(len(m.Records))
			}
		}
		b.ReportMetric(float64(b.N)*lines/b.Elapsed().Seconds(), "lines/s")
	})
}
