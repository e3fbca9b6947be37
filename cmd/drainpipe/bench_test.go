package main_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchCommand runs `drainpipe bench` against the real server: it reports
// what the issue asks in --json, and every line it counts as acknowledged is stored.
func TestBenchCommand(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--metrics=false")
	u := s.addDrain("benched")
	out, errOut, code := runDrainpipe(t, nil, "bench", "--url", u, "--duration", "2s", "--connections", "2", "--batch-lines", "50", "--json")
	if code != 0 {
		t.Fatalf("bench: exit %d: %s", code, errOut)
	}
	var r struct {
		Lines       int64    `json:"lines"`
		LinesPerSec float64  `json:"lines_per_sec"`
		MBPerSec    float64  `json:"mb_per_sec"`
		P50         float64  `json:"p50_ms"`
		P99         float64  `json:"p99_ms"`
		Errors      int64    `json:"errors"`
		RSSPeakMB   *float64 `json:"server_rss_peak_mb"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bench --json: %v: %q", err, out)
	}
	if r.Lines == 0 || r.LinesPerSec <= 0 || r.MBPerSec <= 0 || r.P99 < r.P50 || r.P50 <= 0 || r.Errors != 0 {
		t.Fatalf("bench result %+v", r)
	}
	// The server's peak resident memory, from its /metrics, between what Go
	// alone needs and what this small run could ever cost.
	if r.RSSPeakMB == nil || *r.RSSPeakMB < 5 || *r.RSSPeakMB > 1024 {
		t.Fatalf("server_rss_peak_mb = %v, want present and sane: %s", r.RSSPeakMB, out)
	}
	text, errOut, code := runDrainpipe(t, nil, "bench", "--url", u, "--duration", "1s", "--connections", "1", "--batch-lines", "10")
	if code != 0 || !strings.Contains(text, "server peak resident memory") || !strings.Contains(text, " MiB") {
		t.Fatalf("bench's text report: exit %d %q %s", code, text, errOut)
	}
	if got := s.waitLines("benched", int(r.Lines)); len(got) < int(r.Lines) {
		t.Fatalf("bench counted %d acknowledged lines, %d stored", r.Lines, len(got))
	}
	// Wrong credentials: every request fails, and bench says so.
	_, errOut, code = runDrainpipe(t, nil, "bench", "--url", strings.Replace(u, "@", "x@", 1), "--duration", "1s", "--connections", "1")
	if code == 0 || !strings.Contains(errOut, "401") {
		t.Fatalf("bench with a wrong secret: exit %d %q", code, errOut)
	}
}
