package verify_test

import (
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/verify"
)

// BenchmarkRun measures a whole audit against the in-memory test drain: pairs
// sent as one batch per line over real HTTP on 127.0.0.1, then read back.
func BenchmarkRun(b *testing.B) {
	const count = 2000
	for b.Loop() {
		d := newDrain(b, nil)
		rep, err := verify.Run(b.Context(), verify.Config{URL: d.url, Count: count, Concurrency: 16, Wait: time.Minute, Reader: d})
		if err != nil || !rep.OK() {
			b.Fatalf("Run: %+v, %v", rep, err)
		}
	}
	b.ReportMetric(float64(2*count*b.N)/b.Elapsed().Seconds(), "lines/s")
}
