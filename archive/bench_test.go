package archive_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkWrite stores production-shaped deliveries: entries of 400 lines
// (one logplex batch each), ~250-byte router lines and app lines with fresh
// request ids, per Write as many entries as the journal hands the archive
// under load. Each Write ends with its barrier (rows on disk).
func BenchmarkWrite(b *testing.B) {
	for _, perWrite := range []int{4, 64, 256} {
		b.Run(fmt.Sprintf("entries=%d", perWrite), func(b *testing.B) {
			benchmarkWrite(b, perWrite)
		})
	}
}

func benchmarkWrite(b *testing.B, perWrite int) {
	const perEntry = 400
	reg := prometheus.NewRegistry()
	a := open(b, archive.Config{Registerer: reg})
	g := newLineGen(1, received)
	const distinct = 8
	ctx := context.Background()
	seq := uint64(1)
	pool := g.entries("bench-app", 1, distinct*perWrite, perEntry)
	lines := 0
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		es := pool[(i%distinct)*perWrite : (i%distinct+1)*perWrite]
		for j := range es {
			es[j].Seq = seq
			seq++
		}
		if err := a.Write(ctx, es); err != nil {
			b.Fatal(err)
		}
		lines += perEntry * perWrite
	}
	reportLines(b, lines, cpu)
	b.ReportMetric(metricSum(b, reg, "drainpipe_archive_flush_duration_seconds")/float64(b.N)*1000, "flush-ms/write")
}

// metricSum is a histogram's sum of observations.
func metricSum(t testing.TB, g prometheus.Gatherer, name string) float64 {
	mfs, _ := g.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetHistogram().GetSampleSum()
		}
	}
	return 0
}

// reportLines reports lines/s of wall time and, since the machine may be busy
// with other work, lines per second of this process's CPU time.
func reportLines(b *testing.B, lines int, cpuStart time.Duration) {
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(lines)/(cpuTime()-cpuStart).Seconds(), "lines/cpu-s")
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var _ = drainpipe.Record{}
