package metrics_test

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/metrics"
)

// BenchmarkRouterExtractAdd measures router lines through Extract and Add, the hot path.
func BenchmarkRouterExtractAdd(b *testing.B) {
	recs := fixtureRecords(b)[:9] // the router lines
	a := newAggregator(b, metrics.Config{})
	n := 0
	cpu := cpuTime(b)
	for ; b.Loop(); n++ {
		r := recs[n%len(recs)]
		r.Time = t0.Add(time.Duration(n) * time.Microsecond)
		_ = a.AddRecord(r) // Extract, then Add under one lock
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
	// The machine is shared: lines per second of this process's CPU time says what
	// one core does when it is not lent to others.
	b.ReportMetric(float64(n)/(cpuTime(b)-cpu).Seconds(), "lines/cpu-s")
}

func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSeriesMemory reports the heap held by 10,000 active series, each with a
// distribution of 100 router-like timings.
func BenchmarkSeriesMemory(b *testing.B) {
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		a := newAggregator(b, metrics.Config{MaxSeriesPerApp: 10000})
		for i := range 10000 {
			for v := range 100 {
				a.Add("app", metrics.Sample{Name: "router.service", Source: fmt.Sprintf("web.%d", i), Unit: "ms",
					Kind: metrics.Distribution, Value: float64(v * v), Time: t0})
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc), "bytes/10k-series")
		runtime.KeepAlive(a)
	}
}

// BenchmarkExtractFixture measures Extract on every line of the realistic fixture:
// router, runtime, add-on, app and l2met lines, and Heroku's loss reports, which it
// reads with herokulog.LossReport.
func BenchmarkExtractFixture(b *testing.B) {
	recs := fixtureRecords(b)
	n, samples := 0, 0
	for b.Loop() {
		for _, r := range recs {
			_ = metrics.Extract(r, func(metrics.Sample) { samples++ })
		}
		n += len(recs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
}
