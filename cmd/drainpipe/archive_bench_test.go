package main_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/bench"
	"github.com/drainpipe/drainpipe/logplex"
	"github.com/prometheus/client_golang/prometheus"
)

// The archive benchmarks run the real server, once per engine, on the same
// corpus: "victorialogs" (this binary) and "sqlite" (the SQLite + FTS5
// archive, a binary built from the commit before the engine changed, named by
// DRAINPIPE_SQLITE_BINARY; scripts/bench-archive builds it). Choose them with
// DRAINPIPE_BENCH_ENGINES (default: victorialogs). Run with -benchtime 1x.

// engines returns the engines to measure and the binary of each.
func engines(b *testing.B) [][2]string {
	names := strings.Split(os.Getenv("DRAINPIPE_BENCH_ENGINES"), ",")
	if names[0] == "" {
		names = []string{"victorialogs"}
	}
	var out [][2]string
	for _, n := range names {
		switch n {
		case "victorialogs":
			out = append(out, [2]string{n, binary})
		case "sqlite":
			bin := os.Getenv("DRAINPIPE_SQLITE_BINARY")
			if bin == "" {
				b.Fatal("engine sqlite needs DRAINPIPE_SQLITE_BINARY, the SQLite archive's drainpipe (scripts/bench-archive builds it)")
			}
			out = append(out, [2]string{n, bin})
		default:
			b.Fatalf("DRAINPIPE_BENCH_ENGINES: unknown engine %q (victorialogs, sqlite)", n)
		}
	}
	return out
}

// archiveSize is the size of the engine's files in data.
func archiveSize(data string) int64 {
	var n int64
	_ = filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(data, path)
		if err != nil || !d.Type().IsRegular() || !(strings.HasPrefix(rel, "archive/") || strings.HasPrefix(rel, "archive.db")) {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// peakRSS is the process's VmHWM in MB.
func (s *server) peakRSS() float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// cpu is the CPU time (user and system) the server process has used.
func (s *server) cpu() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command's closing parenthesis; utime and stime are
	// the 12th and 13th of them, in clock ticks (100 a second on Linux).
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// stored is how many lines the archive has stored.
func (s *server) stored() float64 { return s.metric("drainpipe_archive_lines_written_total") }

// waitStored waits until the archive stored n lines and returns when it did.
func (s *server) waitStored(b *testing.B, n float64, limit time.Duration) time.Time {
	deadline := time.Now().Add(limit)
	for s.stored() < n {
		if time.Now().After(deadline) {
			b.Fatalf("archive stored %v of %v lines after %v", s.stored(), n, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Now()
}

// BenchmarkArchiveIngest: drainpipe bench's router lines at full speed for
// 20 s (16 connections), the archive's rate meanwhile and after; then a 15 s
// burst at 64 connections and how long after its end the archive has stored
// it; the disk per line; the server's peak RSS.
func BenchmarkArchiveIngest(b *testing.B) {
	for _, e := range engines(b) {
		b.Run("engine="+e[0], func(b *testing.B) {
			for b.Loop() {
				s := &server{t: b, bin: e[1], data: b.TempDir(), args: []string{"--metrics=false"}, done: make(chan struct{})}
				s.start()
				b.Cleanup(s.kill)
				u := s.addDrain("perf")
				r, err := bench.Run(context.Background(), bench.Config{URL: u, Duration: 20 * time.Second, Connections: 16})
				if err != nil {
					b.Fatal(err)
				}
				during, ingestEnd, cpu0 := s.stored(), time.Now(), s.cpu()
				caught := s.waitStored(b, float64(r.Lines), 30*time.Minute)
				// With ingest stopped, the server's CPU is the archive's: a measure
				// that other work on the machine does not change much.
				b.ReportMetric(float64(r.Lines-int64(during))/(s.cpu()-cpu0).Seconds(), "archive-lines/cpu-s")
				b.ReportMetric(r.LinesPerSec, "ingest-lines/s")
				b.ReportMetric(during/r.Elapsed.Seconds(), "archive-lines/s-during-ingest")
				b.ReportMetric(caught.Sub(ingestEnd).Seconds(), "caught-up-after-s")
				burst, err := bench.Run(context.Background(), bench.Config{URL: u, Duration: 15 * time.Second, Connections: 64})
				if err != nil {
					b.Fatal(err)
				}
				end := time.Now()
				s.waitStored(b, float64(r.Lines+burst.Lines), 60*time.Minute)
				b.ReportMetric(time.Since(end).Seconds(), "burst-stored-after-s")
				b.ReportMetric(float64(burst.Lines), "burst-lines")
				time.Sleep(3 * time.Second) // the engines' last flushes
				b.ReportMetric(float64(archiveSize(s.data))/float64(r.Lines+burst.Lines), "disk-bytes/line")
				b.ReportMetric(s.peakRSS(), "peak-rss-MB")
			}
		})
	}
}

// corpus sends n lines of a realistic mix to a drain URL over 16 connections:
// router lines (70%: fresh request ids, client addresses, paths, statuses,
// times) and app lines of web.1 to web.4, 400 lines per batch, times spread
// over the last 90 minutes, and `rare` lines holding the word "zebracorn"
// spread through them.
func corpus(b *testing.B, u string, n, rare int) int64 {
	var sent atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now().Add(-90 * time.Minute)
	step := 90 * time.Minute / time.Duration(max(n, 1))
	client := &http.Client{Timeout: time.Minute}
	for w := range 16 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				first := next.Add(400) - 400
				if first >= int64(n) {
					return
				}
				var body []byte
				for i := first; i < min(first+400, int64(n)); i++ {
					rec := mixLine(rng, start.Add(time.Duration(i)*step))
					if rare > 0 && i%int64(n/rare) == 0 {
						rec.Message += " zebracorn"
					}
					body = logplex.AppendFrame(body, logplex.AppendMessage(nil, rec))
				}
				for {
					req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/logplex-1")
					resp, err := client.Do(req)
					if err == nil {
						resp.Body.Close()
						if resp.StatusCode == http.StatusNoContent {
							break
						}
					}
					time.Sleep(100 * time.Millisecond)
				}
				sent.Add(min(400, int64(n)-first))
			}
		})
	}
	wg.Wait()
	return sent.Load()
}

var (
	mixPaths   = []string{"/", "/api/v1/orders", "/assets/app-62f13e9f.css", "/login", "/api/v1/users/42/cart", "/healthz", "/search"}
	mixMethods = []string{"GET", "GET", "GET", "POST", "PUT"}
	mixApp     = []string{
		`Started GET "/api/v1/orders" for 10.1.2.3 at 2024-04-26 16:58:32 +0000`,
		`Completed 200 OK in 23ms (Views: 1.2ms | ActiveRecord: 12.9ms | Allocations: 4512)`,
		`{"level":"info","ts":1714150712.94,"msg":"order created","order_id":91823,"user":"u_4815","latency_ms":41}`,
		`measure#db.query=12ms count#orders.created=1 sample#queue.depth=42`,
		`State changed from starting to up`,
	}
)

// mixLine is one line of the realistic mix.
func mixLine(rng *rand.Rand, t time.Time) drainpipe.Record {
	if rng.IntN(10) < 7 {
		status := []int{200, 200, 200, 200, 201, 302, 304, 404, 500, 503}[rng.IntN(10)]
		return drainpipe.Record{Priority: 158, Time: t, Host: "host", Source: "heroku", Dyno: "router",
			Message: fmt.Sprintf(`at=info method=%s path="%s" host=myapp.herokuapp.com request_id=%08x-%04x-%04x-%04x-%012x fwd="%d.%d.%d.%d" dyno=web.%d connect=%dms service=%dms status=%d bytes=%d protocol=https`,
				mixMethods[rng.IntN(len(mixMethods))], mixPaths[rng.IntN(len(mixPaths))], rng.Uint32(), rng.Uint32()&0xffff,
				rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint64()&0xffffffffffff, rng.IntN(256), rng.IntN(256), rng.IntN(256),
				rng.IntN(256), 1+rng.IntN(4), rng.IntN(3), rng.IntN(300), status, rng.IntN(100000))}
	}
	return drainpipe.Record{Priority: 190, Time: t, Host: "host", Source: "app", Dyno: fmt.Sprintf("web.%d", 1+rng.IntN(4)),
		Message: mixApp[rng.IntN(len(mixApp))]}
}

// searchLines is how many lines BenchmarkArchiveSearch loads: 10M, or
// DRAINPIPE_BENCH_SEARCH_LINES.
func searchLines() int {
	if n, err := strconv.Atoi(os.Getenv("DRAINPIPE_BENCH_SEARCH_LINES")); err == nil && n > 0 {
		return n
	}
	return 10_000_000
}

// BenchmarkArchiveSearch loads the realistic mix (10M lines by default) and
// times searches through the admin API, median of 21 runs each: a rare word,
// the last hour of one dyno (victorialogs only: the SQLite archive's API had no
// dyno filter), and, for victorialogs, counts by status in the engine itself
// (its LogsQL API is the query side's). It reports disk per line and the
// server's peak RSS.
func BenchmarkArchiveSearch(b *testing.B) {
	n := searchLines()
	for _, e := range engines(b) {
		b.Run("engine="+e[0], func(b *testing.B) {
			for b.Loop() {
				s := &server{t: b, bin: e[1], data: b.TempDir(), args: []string{"--metrics=false"}, done: make(chan struct{})}
				s.start()
				b.Cleanup(s.kill)
				u := s.addDrain("big")
				start := time.Now()
				sent := corpus(b, u, n, 10)
				s.waitStored(b, float64(sent), 6*time.Hour)
				b.ReportMetric(float64(sent)/time.Since(start).Seconds(), "load-lines/s")
				time.Sleep(3 * time.Second)
				b.ReportMetric(float64(archiveSize(s.data))/float64(sent), "disk-bytes/line")
				token := strings.TrimSpace(string(must(os.ReadFile(filepath.Join(s.data, "admin-token")))))
				since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
				b.ReportMetric(searchP50(b, s.url, token, url.Values{"q": {"zebracorn"}, "limit": {"100"}}, 10), "rare-word-p50-ms")
				if e[0] == "victorialogs" {
					b.ReportMetric(searchP50(b, s.url, token, url.Values{"q": {`dyno:="web.1"`}, "since": {since}, "limit": {"100"}}, -1), "dyno-last-hour-p50-ms")
				}
				b.ReportMetric(s.peakRSS(), "peak-rss-MB")
				if e[0] == "victorialogs" {
					if _, err := s.stop(); err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(statsP50(b, filepath.Join(s.data, "archive")), "stats-by-status-p50-ms")
				}
			}
		})
	}
}

// searchP50 runs an admin API search 21 times and returns the median in ms; it
// checks the count of lines found when want ≥ 0.
func searchP50(b *testing.B, base, token string, q url.Values, want int) float64 {
	var took []time.Duration
	for range 21 {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/apps/big/search?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		took = append(took, time.Since(t0))
		if resp.StatusCode != 200 {
			b.Fatalf("search %v: %d %s", q, resp.StatusCode, buf.String())
		}
		if got := strings.Count(buf.String(), `"id":`); want >= 0 && got != want {
			b.Fatalf("search %v found %d lines, want %d", q, got, want)
		}
	}
	slices.Sort(took)
	return float64(took[len(took)/2].Microseconds()) / 1000
}

// statsP50 opens the stopped server's archive and times counts by status.
func statsP50(b *testing.B, dir string) float64 {
	a, err := archive.Open(context.Background(), archive.Config{Dir: dir, PruneInterval: -1, Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	var took []time.Duration
	for range 21 {
		q, err := archive.ParseQuery(`app:="big" | stats by (status) count() n`, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		rows := 0
		if err := a.Query(context.Background(), q, func(cols []logstorage.BlockColumn) error { rows += len(cols[0].Values); return nil }); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t0))
		if rows < 8 { // seven statuses, and app lines with none
			b.Fatalf("stats by status gave %d rows", rows)
		}
	}
	slices.Sort(took)
	return float64(took[len(took)/2].Microseconds()) / 1000
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// BenchmarkArchiveSearchable measures, on an idle server, the time from a
// drain's 2xx to the line being found by a search: 50 lines one at a time,
// each searched for every 5 ms until found, the next sent at once (gap=0: the
// journal's sinks, having just read at its end, pace their next read there) or
// after a second of quiet (gap=1s).
func BenchmarkArchiveSearchable(b *testing.B) {
	for _, gap := range []time.Duration{0, time.Second} {
		for _, e := range engines(b) {
			b.Run(fmt.Sprintf("gap=%v/engine=%s", gap, e[0]), func(b *testing.B) { searchable(b, e, gap) })
		}
	}
}

// searchable is one run of BenchmarkArchiveSearchable: engine e, gap before each line.
func searchable(b *testing.B, e [2]string, gap time.Duration) {
	for b.Loop() {
		s := &server{t: b, bin: e[1], data: b.TempDir(), args: []string{"--metrics=false"}, done: make(chan struct{})}
		s.start()
		b.Cleanup(s.kill)
		u := s.addDrain("idle")
		token := strings.TrimSpace(string(must(os.ReadFile(filepath.Join(s.data, "admin-token")))))
		var took []time.Duration
		for i := range 50 {
			time.Sleep(gap)
			word := fmt.Sprintf("needle%dx", i)
			body := logplex.AppendFrame(nil, logplex.AppendMessage(nil, drainpipe.Record{Priority: 190, Time: time.Now(),
				Source: "app", Dyno: "web.1", Message: "idle line " + word}))
			req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/logplex-1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != http.StatusNoContent {
				b.Fatalf("post: %v", err)
			}
			resp.Body.Close()
			acked := time.Now()
			for deadline := acked.Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				if found(b, s.url, token, "idle", word) {
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("%s not searchable 30 s after its 2xx", word)
				}
			}
			took = append(took, time.Since(acked))
		}
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "searchable-p50-ms")
		b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "searchable-p99-ms")
	}
}

// found reports whether a search of app for word finds a line.
func found(b *testing.B, base, token, app, word string) bool {
	req, _ := http.NewRequest(http.MethodGet, base+"/api/apps/"+app+"/search?q="+url.QueryEscape(word), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return strings.Contains(buf.String(), word)
}
