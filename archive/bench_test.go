package archive_test

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
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

// BenchmarkDiskPerLine stores 200,000 lines of two corpora and reports the
// archive's size on disk per line: the realistic Heroku fixture (38 lines of
// router, dyno, add-on, platform and app output, repeated with new times) and
// router lines with fresh request ids and client addresses (lineGen).
// BenchmarkArchiveIngest in cmd/drainpipe reports it for drainpipe bench's lines.
func BenchmarkDiskPerLine(b *testing.B) {
	fixture := fixtureRecords(b, "app", received)
	g := newLineGen(3, received.Add(-time.Hour))
	corpora := map[string]func(i int) drainpipe.Record{
		"fixture": func(i int) drainpipe.Record {
			r := fixture[i%len(fixture)]
			r.Time = received.Add(-time.Hour + time.Duration(i)*time.Millisecond)
			return r
		},
		"router-random": func(int) drainpipe.Record {
			for {
				if r := g.record("app"); r.Dyno == "router" {
					return r
				}
			}
		},
	}
	for name, next := range corpora {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				dir := filepath.Join(b.TempDir(), "archive")
				a := open(b, archive.Config{Dir: dir})
				const lines, perEntry = 200_000, 2000
				for e := range lines / perEntry {
					recs := make([]drainpipe.Record, perEntry)
					for i := range recs {
						recs[i] = next(e*perEntry + i)
					}
					write(b, a, entry(uint64(e+1), recs...))
				}
				a.Close() // merges what it can and writes everything out
				b.ReportMetric(float64(dirBytes(dir))/lines, "bytes/line")
			}
		})
	}
}

func dirBytes(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
