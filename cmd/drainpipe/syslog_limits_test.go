package main_test

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestSyslogStalledConnections opens 4,000 syslog connections that each send an
// octet count of 70,000 and 65,000 bytes of the frame, then stall. The server
// must hold at most --syslog-max-connections of them (closing the quietest for
// newcomers), so its memory stays bounded, and a real sender must still get its
// lines stored.
func TestSyslogStalledConnections(t *testing.T) {
	t.Parallel()
	loggerPath, err := exec.LookPath("logger")
	if err != nil {
		t.Fatal("util-linux logger is missing: ./scripts/test installs it (bsdutils)")
	}
	s := startServer(t, "", "--syslog-listen", "127.0.0.1:0", "--syslog-max-connections", "200", "--metrics=false")
	host, _ := os.Hostname()
	if _, errOut, code := s.cli("drains", "add", "stalled", "--heroku-token", host); code != 0 {
		t.Fatalf("add: %s", errOut)
	}
	addr := s.syslogAddr("tcp")
	base := s.rssBytes()
	stall := []byte("70000 " + strings.Repeat("x", 65000))
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 4000 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		conns = append(conns, c)
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, _ = c.Write(stall) // the server may have closed it already to make room
	}
	peak := base
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		peak = max(peak, s.rssBytes())
		time.Sleep(100 * time.Millisecond)
	}
	open, evicted := s.metric("drainpipe_syslog_connections_open"), s.metric("drainpipe_syslog_connections_evicted_total")
	t.Logf("4,000 stalled connections: %v open, %v evicted, resident memory +%d MB", open, evicted, (peak-base)>>20)
	if open > 200 || evicted < 3800 {
		t.Errorf("%v connections open, %v evicted: want at most 200 open", open, evicted)
	}
	if grew := peak - base; grew > 100<<20 {
		t.Errorf("4,000 stalled connections grew resident memory by %d MB, want under 100 MB (200 × 64 KiB frames held at most; before the cap, 4,000 × 64 KiB)", grew>>20)
	}
	out, err := exec.Command(loggerPath, "--tcp", "--octet-count", "-n", strings.Split(addr, ":")[0], "-P", strings.Split(addr, ":")[1], "-t", "app", "still heard").CombinedOutput()
	if err != nil {
		t.Fatalf("logger: %v %s", err, out)
	}
	if got := s.waitLines("stalled", 1); len(got) != 1 || got[0].Message != "still heard" {
		t.Fatalf("a real sender during the flood: %+v", got)
	}
}
