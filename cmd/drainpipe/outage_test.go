package main_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

// rssBytes is the resident memory of the server process.
func (s *server) rssBytes() int64 {
	s.t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		s.t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			return kb << 10
		}
	}
	s.t.Fatal("no VmRSS")
	return 0
}

// TestOutageFillsJournalToItsCap keeps sending while CloudWatch is down: the
// journal grows to its cap and no further, the receiver then answers 503 (which
// logplex retries) and counts it, memory stays flat, and once CloudWatch is back
// every acknowledged line is delivered.
func TestOutageFillsJournalToItsCap(t *testing.T) {
	t.Parallel()
	emu, url := startEmulator(t, cwlemu.Faults{Down: true})
	const journalCap = 2 << 20
	s := startServerEnv(t, "", awsEnv(url), "--cloudwatch", "--journal-max-bytes", fmt.Sprint(journalCap), "--metrics=false")
	u := s.addDrain("capped")
	l := startLoader(u, 2, 100)
	var peakRSS, peakJournal float64
	deadline := time.Now().Add(60 * time.Second)
	for s.metric("drainpipe_receiver_requests_total", `code="503"`) < 20 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		peakRSS = max(peakRSS, float64(s.rssBytes()))
		peakJournal = max(peakJournal, s.metric("drainpipe_journal_bytes"))
	}
	for range 10 { // stay full for a while: memory must not grow meanwhile
		time.Sleep(200 * time.Millisecond)
		peakRSS = max(peakRSS, float64(s.rssBytes()))
		peakJournal = max(peakJournal, s.metric("drainpipe_journal_bytes"))
	}
	if s.metric("drainpipe_receiver_requests_total", `code="503"`) < 20 {
		t.Fatalf("no 503s while the journal should be full (journal %v bytes)", peakJournal)
	}
	if s.metric("drainpipe_journal_full_total") == 0 {
		t.Error("drainpipe_journal_full_total not counted")
	}
	if peakJournal > journalCap {
		t.Errorf("journal reached %v bytes, over its cap of %d", peakJournal, journalCap)
	}
	if peakRSS > 400<<20 {
		t.Errorf("server resident memory reached %.0f MB during the outage", peakRSS/(1<<20))
	}
	acked := l.stop()
	emu.SetFaults(cwlemu.Faults{})
	got := waitCloudWatch(t, emu, "/heroku/capped", len(acked))
	seen := map[string]int{}
	for _, m := range got {
		seen[strings.TrimPrefix(m, "app[web.1]: ")]++
	}
	for text := range acked {
		if seen[text] != 1 {
			t.Fatalf("line %q delivered %d times after the outage, want once", text, seen[text])
		}
	}
	checkEveryAckedLine(t, s, u, "capped", acked)
	t.Logf("%d lines acknowledged; journal peaked at %.1f MB (cap %d MB), RSS at %.0f MB",
		len(acked), peakJournal/(1<<20), journalCap>>20, peakRSS/(1<<20))
}
