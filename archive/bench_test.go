package archive_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/archive"
)

// BenchmarkWrite stores production-shaped deliveries: 4 entries of 400 lines
// (one logplex batch each) per Write, ~250-byte router lines and app lines.
// It runs with synchronous=FULL, as the archive does, and NORMAL, to show the
// cost of the fsync per Write.
func BenchmarkWrite(b *testing.B) {
	for _, mode := range []string{"FULL", "NORMAL"} {
		b.Run("sync="+mode, func(b *testing.B) {
			archive.SetSynchronous(mode)
			defer archive.SetSynchronous("FULL")
			benchmarkWrite(b)
		})
	}
}

func benchmarkWrite(b *testing.B) {
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

// BenchmarkSearch searches an archive of searchLines production-shaped lines
// of one busy app (plus a quieter one), built once for all the sub-benchmarks.
func BenchmarkSearch(b *testing.B) {
	const searchLines = 200_000
	a := open(b, archive.Config{})
	g := newLineGen(2, time.Now().Add(-time.Hour))
	ctx := context.Background()
	seq := uint64(1)
	for n := 0; n < searchLines; n += 4 * 400 {
		app := "busy"
		if n%(10*1600) == 0 {
			app = "quiet"
		}
		if err := a.Write(ctx, g.entries(app, seq, 4, 400)); err != nil {
			b.Fatal(err)
		}
		seq += 4
	}
	newest, err := a.Tail(ctx, "busy", 1)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		q    archive.Query
	}{
		{"rare", archive.Query{Match: "H12"}},
		{"common", archive.Query{Match: "GET"}},
		{"phrase", archive.Query{Match: `"Request timeout"`}},
		{"or", archive.Query{Match: "H12 OR R14"}},
		{"prefix", archive.Query{Match: "Allocat*"}},
		{"request_id", archive.Query{Match: "e3b0c442"}},
		{"dyno", archive.Query{Dyno: "web.2"}},
		{"since", archive.Query{Since: newest[0].Time.Add(-time.Second)}},
		{"common+since", archive.Query{Match: "GET", Since: newest[0].Time.Add(-time.Second)}},
		{"page", archive.Query{Before: newest[0].ID - 100_000}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.q.App, bc.q.Limit = "busy", 100
			for b.Loop() {
				if _, err := a.Search(ctx, bc.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("tail", func(b *testing.B) {
		for b.Loop() {
			if _, err := a.Tail(ctx, "busy", 100); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stats", func(b *testing.B) {
		for b.Loop() {
			if _, err := a.Stats(ctx, "busy"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
