package main_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSyslogShutdownLosesNothing sends 6,000 lines at 2,000 lines/s through
// util-linux logger (a real syslog client, newline-framed TCP) and sends SIGTERM
// to the server a second into it. The server must stop accepting but keep
// reading the open connection until it goes quiet, journal every line, exit 0
// within 10 s, and have every line after a restart.
func TestSyslogShutdownLosesNothing(t *testing.T) {
	t.Parallel()
	loggerPath, err := exec.LookPath("logger")
	if err != nil {
		t.Fatal("util-linux logger is missing: ./scripts/test installs it (bsdutils)")
	}
	s := startServer(t, "", "--syslog-listen", "127.0.0.1:0", "--metrics=false")
	host, _ := os.Hostname()
	if _, errOut, code := s.cli("drains", "add", "inflight", "--heroku-token", host); code != 0 {
		t.Fatalf("add: %s", errOut)
	}
	addr := strings.Split(s.syslogAddr("tcp"), ":")
	logger := exec.Command(loggerPath, "--tcp", "-n", addr[0], "-P", addr[1], "-t", "app")
	stdin, err := logger.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var loggerOut strings.Builder
	logger.Stdout, logger.Stderr = &loggerOut, &loggerOut
	if err := logger.Start(); err != nil {
		t.Fatal(err)
	}
	const total, perTick = 6000, 20 // 20 lines every 10 ms: 2,000 lines/s
	w := bufio.NewWriter(stdin)
	tick := time.NewTicker(10 * time.Millisecond)
	var termAt time.Time
	for sent := 0; sent < total; sent += perTick {
		<-tick.C
		for i := sent; i < sent+perTick; i++ {
			fmt.Fprintf(w, "in flight %05d\n", i)
		}
		if err := w.Flush(); err != nil {
			t.Fatalf("logger's stdin: %v: logger exited, the server dropped its connection\n%s", err, loggerOut.String())
		}
		if sent == 2000 {
			termAt = time.Now()
			if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
		}
	}
	tick.Stop()
	stdin.Close()
	if err := logger.Wait(); err != nil {
		t.Errorf("logger: %v\n%s", err, loggerOut.String())
	}
	select {
	case <-s.done:
	case <-time.After(time.Until(termAt.Add(15 * time.Second))):
		t.Fatalf("server still running 15 s after SIGTERM\n%s", s.logText())
	}
	if took := time.Since(termAt); s.err != nil || took > 10*time.Second {
		t.Errorf("server exit %v after %v, want 0 within 10 s", s.err, took)
	}
	s.start()
	got := s.waitLines("inflight", total)
	seen := map[string]int{}
	for _, l := range got {
		seen[l.Message]++
	}
	missing := 0
	for i := range total {
		if seen[fmt.Sprintf("in flight %05d", i)] != 1 {
			missing++
		}
	}
	if missing > 0 || len(got) != total {
		t.Fatalf("%d of %d lines missing or stored twice after SIGTERM mid-stream (%d stored)\n%s", missing, total, len(got), s.logText())
	}
}
