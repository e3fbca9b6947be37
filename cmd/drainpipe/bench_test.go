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

// TestBenchRefusals: values that would run something other than what was asked,
// or that no server takes, are usage errors naming the flag, refused before a
// body is built (--line-bytes 100000000 once took 24 GB), and a malformed --url
// never has its secret echoed. A dead --metrics-url is said to be unreachable.
func TestBenchRefusals(t *testing.T) {
	t.Parallel()
	const u = "http://d_bench:S3CRET@127.0.0.1:1/logs"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--line-bytes", "100000000"}, "--line-bytes 100000000: want 1 to 65536"},
		{[]string{"--batch-lines", "40000"}, "over the server's largest body (8 MiB): lower --batch-lines or --line-bytes"},
		{[]string{"--batch-lines", "8000", "--line-bytes", "2000"}, "lower --batch-lines or --line-bytes"},
		{[]string{"--connections", "0"}, "--connections 0: want more than 0"},
		{[]string{"--connections", "-3"}, "--connections -3: want more than 0"},
		{[]string{"--duration", "0"}, "--duration 0s: want more than 0"},
		{[]string{"--batch-lines", "0"}, "--batch-lines 0: want more than 0"},
		{[]string{"--line-bytes", "0"}, "--line-bytes 0: want more than 0"},
		{[]string{"--url", "ftp://d_bench:S3CRET@host/logs"}, "--url: want the drain URL"},
		{[]string{"--url", "http://d_bench:S3CRET@ho st/logs"}, "--url: want the drain URL"},
	}
	for _, tt := range tests {
		out, errOut, code := runDrainpipe(t, nil, append([]string{"bench", "--url", u, "--duration", "1s", "--metrics-url", "-"}, tt.args...)...)
		if code != 2 || !strings.Contains(errOut, tt.want) || out != "" {
			t.Errorf("bench %v: exit %d %q %q; want exit 2 and %q", tt.args, code, out, errOut, tt.want)
		}
		if strings.Contains(out+errOut, "S3CRET") {
			t.Errorf("bench %v printed the drain secret: %q %q", tt.args, out, errOut)
		}
	}
	out, _, _ := runDrainpipe(t, nil, "bench", "--url", u, "--duration", "300ms", "--connections", "1", "--metrics-url", "http://127.0.0.1:1/metrics")
	if !strings.Contains(out, "server peak resident memory unknown: its metrics are unreachable") {
		t.Errorf("bench with a dead --metrics-url: %q; want it said unreachable", out)
	}
}
