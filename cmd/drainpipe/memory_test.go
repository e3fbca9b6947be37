package main_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/bench"
	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

// memoryBound is what the server's resident memory must stay under in the tests
// below. The goal is 256 MB for the whole process at full ingest with
// every sink on; measured, the process peaks at 260-325 MiB (docs/benchmarks.md),
// and this bound leaves a margin for this shared machine. Before the in-flight
// bounds and the memory limit it reached 580-1,140 MiB: a regression to anything
// like that fails here.
const memoryBound = 384 << 20

// TestMemoryBoundedUnderLoad loads the real server, every sink on (archive,
// metrics, CloudWatch to its double), with 64 connections of ~100 KB batches and
// then with large bodies (1 MiB), and checks what bounds its memory: the start
// line names the memory limit and where it came from, resident memory (sampled
// from /metrics, as `drainpipe bench` reports it) stays under memoryBound, and
// the bytes of bodies in flight never exceed --max-body-in-flight.
func TestMemoryBoundedUnderLoad(t *testing.T) {
	t.Parallel()
	_, url := startEmulator(t, cwlemu.Faults{})
	s := startServerEnv(t, "", awsEnv(url), "--cloudwatch", "--max-body-in-flight", "16MiB")
	if !strings.Contains(s.logText(), "memory_limit=160MiB memory_limit_from=default") {
		t.Errorf("the start line does not name the memory limit:\n%s", s.logText())
	}
	u := s.addDrain("loaded")
	for _, load := range []bench.Config{
		{Connections: 64, BatchLines: 400, LineBytes: 250},  // logplex's batches
		{Connections: 32, BatchLines: 4000, LineBytes: 250}, // 1 MiB bodies
	} {
		load.URL, load.Duration = u, 6*time.Second
		r, err := bench.Run(context.Background(), load)
		if err != nil {
			t.Fatal(err)
		}
		if r.Requests == 0 {
			t.Fatalf("%d connections of %d lines: nothing acknowledged (%s)", load.Connections, load.BatchLines, r.LastError)
		}
		t.Logf("%d connections of %d lines: %.0f lines/s, %d errors, server peak RSS %.0f MiB",
			load.Connections, load.BatchLines, r.LinesPerSec, r.Errors, r.ServerRSSPeakMB)
		if r.ServerRSSPeakMB <= 0 || r.ServerRSSPeakMB > memoryBound>>20 {
			t.Errorf("%d connections of %d lines: server resident memory peaked at %.0f MiB, want (0, %d]",
				load.Connections, load.BatchLines, r.ServerRSSPeakMB, memoryBound>>20)
		}
	}
	if peak := s.metric("drainpipe_receiver_body_bytes_in_flight_peak"); peak <= 0 || peak > 16<<20 {
		t.Errorf("body bytes in flight peaked at %.0f, want within (0, 16 MiB]", peak)
	}
}

// TestMemoryFlatDuringSinkOutage keeps loading the server while CloudWatch
// refuses every call: the journal grows on disk, and what is in memory does not
// grow with it (the CloudWatch sink holds one bounded delivery, retried).
func TestMemoryFlatDuringSinkOutage(t *testing.T) {
	t.Parallel()
	_, url := startEmulator(t, cwlemu.Faults{Down: true})
	s := startServerEnv(t, "", awsEnv(url), "--cloudwatch", "--journal-max-bytes", "1GiB")
	u := s.addDrain("outage")
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = bench.Run(ctx, bench.Config{URL: u, Duration: 5 * time.Minute, Connections: 16, MetricsURL: "-"})
	}()
	defer func() { stop(); <-done }()
	const early, late = 64 << 20, 320 << 20 // journal bytes
	var earlyPeak, latePeak float64
	deadline := time.Now().Add(3 * time.Minute)
	for {
		journal, rss := s.metric("drainpipe_journal_bytes"), float64(s.rssBytes())
		if journal < early {
			earlyPeak = max(earlyPeak, rss)
		} else {
			latePeak = max(latePeak, rss)
		}
		if journal >= late {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the journal grew to only %.0f MB in 3 minutes", journal/(1<<20))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if s.metric("drainpipe_sink_delivered_lines_total", `sink="cloudwatch"`) > 0 {
		t.Fatal("CloudWatch took lines while it was down")
	}
	t.Logf("resident memory: %.0f MiB while the journal held under %d MiB, %.0f MiB while it grew to %d MiB",
		earlyPeak/(1<<20), early>>20, latePeak/(1<<20), late>>20)
	if latePeak > memoryBound {
		t.Errorf("resident memory reached %.0f MiB during the outage, over %d MiB", latePeak/(1<<20), memoryBound>>20)
	}
	if grew := latePeak - earlyPeak; grew > 64<<20 {
		t.Errorf("resident memory grew by %.0f MiB while the journal grew by %d MiB: not flat",
			grew/(1<<20), (late-early)>>20)
	}
}
