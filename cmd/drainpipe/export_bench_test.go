package main_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/api"
)

// BenchmarkExport measures `drainpipe export` to /dev/null against the real
// server: the CLI process, the admin API's stream, the archive's windows. The
// archive holds exportLines router lines of one app; each iteration exports
// them all, as text and as JSON. It reports lines/s and the peak RSS of both
// processes (docs/benchmarks.md).
func BenchmarkExport(b *testing.B) {
	const exportLines = 1_000_000
	s := startServer(b, "", "--metrics=false")
	loadRouterLines(b, s, s.addDrain("big"), "big", exportLines)
	for _, format := range []string{"text", "json"} {
		b.Run(format, func(b *testing.B) {
			s.resetPeakRSS(b) // the peak of the exports, not of the loading
			before := s.procStatus(b, "VmRSS")
			cpu0 := s.cpuTime(b)
			var cliCPU time.Duration
			var rss int64
			for b.Loop() {
				args := []string{"export", "big", "--server", s.url, "--data", s.data}
				if format == "json" {
					args = append(args, "--json")
				}
				cmd := exec.Command(binary, args...)
				null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
				if err != nil {
					b.Fatal(err)
				}
				var errb bytes.Buffer
				cmd.Stdout, cmd.Stderr = null, &errb
				if err := cmd.Run(); err != nil {
					b.Fatalf("export: %v: %s", err, errb.String())
				}
				null.Close()
				rss = max(rss, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
				cliCPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			}
			lines := float64(exportLines * b.N)
			// CPU per line does not depend on what else runs on the machine.
			b.ReportMetric(float64((s.cpuTime(b)-cpu0).Microseconds())/lines, "server-cpu-µs/line")
			b.ReportMetric(float64(cliCPU.Microseconds())/lines, "cli-cpu-µs/line")
			b.ReportMetric(lines/b.Elapsed().Seconds(), "lines/s")
			b.ReportMetric(float64(rss)/1024, "cli-peak-rss-MB")
			b.ReportMetric(float64(before)/1024, "server-rss-before-MB")
			b.ReportMetric(float64(s.procStatus(b, "VmHWM"))/1024, "server-peak-rss-MB")
		})
	}
}

// loadRouterLines sends n router lines of about 250 bytes to app's drain, from
// four connections, and waits until the archive holds them.
func loadRouterLines(b *testing.B, s *server, url, app string, n int) {
	b.Helper()
	const batch = 2000
	start := time.Now().UTC().Add(-time.Hour)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := w * batch; i < n; i += 4 * batch {
				recs := make([]drainpipe.Record, 0, batch)
				for k := i; k < min(i+batch, n); k++ {
					recs = append(recs, drainpipe.Record{Time: start.Add(time.Duration(k) * time.Millisecond), Priority: 158, Host: "host", Source: "heroku", Dyno: "router",
						Message: fmt.Sprintf(`at=info method=GET path="/items/%d" host=%s.herokuapp.com request_id=%08x-%04d fwd="10.0.%d.%d" dyno=web.%d connect=0ms service=%dms status=200 bytes=%d protocol=https`,
							k%400, app, k, k%400, k/256%256, k%256, k%4+1, k%97, 1000+k%400)})
				}
				body := recordsBody(recs)
				for {
					req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
					for k, v := range logplexHeaders {
						req.Header.Set(k, v)
					}
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						errs <- err
						return
					}
					resp.Body.Close()
					if resp.StatusCode == 204 {
						break
					}
					time.Sleep(100 * time.Millisecond) // 503: the journal is full, the archive behind
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	c := api.NewClient(s.url, s.token(b))
	deadline := time.Now().Add(10 * time.Minute)
	for {
		d, err := c.Drain(context.Background(), app)
		if err == nil && d.Lines >= int64(n) {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("the archive holds %d of %d lines after 10 minutes (%v)", d.Lines, n, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// resetPeakRSS starts the server's peak resident set (VmHWM) again from its
// current one.
func (s *server) resetPeakRSS(b *testing.B) {
	b.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0); err != nil {
		b.Fatal(err)
	}
}

// cpuTime is the CPU time the server process used so far (user and system).
func (s *server) cpuTime(b *testing.B) time.Duration {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command's name, which is in parentheses: utime and
	// stime are the 12th and 13th, in clock ticks (100 a second on Linux).
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// procStatus is a memory figure of the server process's /proc/PID/status, in
// KiB: VmRSS (resident now), VmHWM (its peak).
func (s *server) procStatus(b *testing.B, name string) int64 {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb
			}
		}
	}
	b.Fatalf("no %s in /proc/PID/status", name)
	return 0
}
