package cloudwatch_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
)

// BenchmarkWrite measures delivery from Write to the emulator through the real SDK
// with 250-byte events (a 238-byte message behind "app[web.1]: "), and how full
// the batches are: PutLogEvents calls per MiB delivered (26 bytes per event
// counted, as the service counts them) against the floor the 1 MiB and 10,000-event
// limits set. A Write must deliver before it returns, so each stream's last batch
// of a Write is partial: the bigger the Writes, the closer to the floor.
func BenchmarkWrite(b *testing.B) {
	for _, bc := range []struct{ apps, linesPerWrite int }{{1, 10_000}, {4, 40_000}, {1, 100_000}, {8, 200_000}} {
		b.Run(fmt.Sprintf("apps=%d/lines=%d", bc.apps, bc.linesPerWrite), func(b *testing.B) {
			benchmarkWrite(b, bc.apps, bc.linesPerWrite)
		})
	}
}

func benchmarkWrite(b *testing.B, apps, linesPerWrite int) {
	e := newEnv(b)
	s := e.sink(b, nil)
	t0 := recent()
	pad := strings.Repeat("x", 238-len("line 0000000 of app0 "))
	var recs []drainpipe.Record
	for i := range linesPerWrite {
		app := fmt.Sprintf("app%d", i%apps)
		recs = append(recs, rec(app, t0.Add(time.Duration(i)*time.Millisecond), fmt.Sprintf("line %07d of %s %s", i, app, pad)))
	}
	entries := []drainpipe.Entry{entry(1, recs...)}
	eventBytes := len("app[web.1]: ") + len(recs[0].Message) + 26
	// The first Write creates the groups and streams: setup, not delivery.
	if err := s.Write(context.Background(), entries); err != nil {
		b.Fatal(err)
	}
	putsBefore := e.emu.Calls()["PutLogEvents"]
	b.SetBytes(int64(linesPerWrite * (eventBytes - 26)))
	b.ResetTimer()
	for b.Loop() {
		if err := s.Write(context.Background(), entries); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := b.Elapsed()
	puts := float64(e.emu.Calls()["PutLogEvents"] - putsBefore)
	lines := float64(b.N * linesPerWrite)
	mib := lines * float64(eventBytes) / (1 << 20)
	floor := math.Max(mib, lines/10_000)
	b.ReportMetric(lines/elapsed.Seconds(), "lines/s")
	b.ReportMetric(puts/mib, "puts/MiB")
	b.ReportMetric(puts/floor, "x_floor")
}
