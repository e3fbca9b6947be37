package verify

import (
	"testing"
	"time"
)

// BenchmarkObserve measures one read-back of a large run: parsing and counting
// every line of 100,000 pairs.
func BenchmarkObserve(b *testing.B) {
	const count = 100_000
	t := newTally(testRun, count)
	seen := make([]Seen, 0, 2*count)
	now := time.Now()
	for id := 1; id <= count; id++ {
		t.pairs[id].sent = true
		for half := range kinds {
			seen = append(seen, Seen{Message: "app[verify.1]: " + line(testRun, id, half)})
		}
	}
	for b.Loop() {
		t.observe(seen, now, true)
	}
	if !t.complete() {
		b.Fatal("not every pair observed")
	}
	b.ReportMetric(float64(len(seen)*b.N)/b.Elapsed().Seconds(), "lines/s")
}
