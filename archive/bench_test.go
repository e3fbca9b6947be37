package archive_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/archive"
)

// (one logplex batch each) per Write, ~250-byte router lines and app lines.
func BenchmarkWrite(b *testing.B) {
	const perEntry, perWrite = 400, 4
	a := open(b, archive.Config{})
	g := newLineGen(1, time.Now())
	const distinct = 64
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
