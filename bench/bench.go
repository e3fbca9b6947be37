// Package bench is a load generator that speaks logplex to any drain URL, the way
// Heroku does: POSTs of octet-counted frames over keep-alive connections, one
// request in flight per connection, each waiting for its acknowledgement. It also
// speaks OTLP/HTTP logs (Protocol OTLP), as Heroku Fir's telemetry drains do.
package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/internal/tick"
	"github.com/drainpipe/drainpipe/logplex"
)

// Config describes one run.
type Config struct {
	// URL is the drain URL, credentials included (http://ID:SECRET@host/logs).
	URL string
	// Duration of the run. Default 10 s.
	Duration time.Duration
	// Connections is the number of concurrent senders. Default 16.
	Connections int
	// BatchLines is the number of lines per request. Default 400 (≈100 KB, logplex's batch size).
	BatchLines int
	// LineBytes is the approximate size of one frame. Default 250.
	LineBytes int
	// Protocol is Logplex (the default) or OTLP.
	Protocol string
	// Progress, if set, is called about once a second with the totals so far.
	Progress func(Result)
	// MetricsURL is where the server's Prometheus metrics are read during the run,
	// for its peak resident memory. Default: /metrics on the drain URL's host; "-"
	// reads none.
	MetricsURL string
}

// Result is what a run measured.
type Result struct {
	Lines       int64         `json:"lines"`
	Bytes       int64         `json:"bytes"`
	Requests    int64         `json:"requests"`
	Errors      int64         `json:"errors"`
	Elapsed     time.Duration `json:"-"`
	LinesPerSec float64       `json:"lines_per_sec"`
	MBPerSec    float64       `json:"mb_per_sec"`
	P50Ms       float64       `json:"p50_ms"`
	P99Ms       float64       `json:"p99_ms"`
	// LastError is the text of the last failure, for the report.
	LastError string `json:"last_error,omitempty"`
	// ServerRSSPeakMB is the largest resident memory of the server seen during the
	// run (its /metrics process_resident_memory_bytes, sampled every second, and at the start and the end), in
	// MiB; 0 when the server did not expose it.
	ServerRSSPeakMB float64 `json:"server_rss_peak_mb"`
}

func (c *Config) setDefaults() error {
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Connections <= 0 {
		c.Connections = 16
	}
	if c.BatchLines <= 0 {
		c.BatchLines = 400
	}
	if c.LineBytes <= 0 {
		c.LineBytes = 250
	}
	switch c.MetricsURL {
	case "":
		c.MetricsURL = metricsURL(c.URL)
	case "-":
		c.MetricsURL = ""
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url %q: want the drain URL, http(s)://ID:SECRET@host/logs", c.URL)
	}
	switch c.Protocol {
	case "":
		c.Protocol = Logplex
	case Logplex, OTLP:
	default:
		return fmt.Errorf("protocol %q: want %s or %s", c.Protocol, Logplex, OTLP)
	}
	return nil
}

// counters are shared by the senders.
type counters struct {
	lines, bytes, requests, errors atomic.Int64
	mu                             sync.Mutex
	lastErr                        string
	latencies                      []time.Duration
}

// Run sends load until the duration passes or ctx ends, and reports.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.setDefaults(); err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.Connections, MaxConnsPerHost: cfg.Connections, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var c counters
	stopRSS := sampleRSS(ctx, cfg.MetricsURL, time.Second)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range cfg.Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(ctx, client, &cfg, w, &c)
		}()
	}
	stopProgress := progress(&cfg, &c, start)
	wg.Wait()
	stopProgress()
	r := c.result(time.Since(start))
	r.ServerRSSPeakMB = stopRSS() / (1 << 20)
	return r, nil
}

func progress(cfg *Config, c *counters, start time.Time) func() {
	if cfg.Progress == nil {
		return func() {}
	}
	return tick.Every(time.Second, func() { cfg.Progress(c.result(time.Since(start))) })
}

// send is one connection's loop: bodies are built once (8 of them, with distinct
// lines) and sent round robin, so the generator spends its CPU on sending.
func send(ctx context.Context, client *http.Client, cfg *Config, worker int, c *counters) {
	bodies := make([][]byte, 8)
	build := Body
	if cfg.Protocol == OTLP {
		build = OTLPBody
	}
	for i := range bodies {
		bodies[i] = build(worker*len(bodies)+i, cfg.BatchLines, cfg.LineBytes, time.Now())
	}
	var lat []time.Duration
	defer func() {
		c.mu.Lock()
		c.latencies = append(c.latencies, lat...)
		c.mu.Unlock()
	}()
	for i := 0; ctx.Err() == nil; i++ {
		body := bodies[i%len(bodies)]
		t0 := time.Now()
		err := post(ctx, client, cfg, body)
		if ctx.Err() != nil {
			return // the run ended mid-request: neither a success nor an error
		}
		if err != nil {
			c.errors.Add(1)
			c.mu.Lock()
			c.lastErr = err.Error()
			c.mu.Unlock()
			continue
		}
		lat = append(lat, time.Since(t0))
		c.requests.Add(1)
		c.lines.Add(int64(cfg.BatchLines))
		c.bytes.Add(int64(len(body)))
	}
}

func post(ctx context.Context, client *http.Client, cfg *Config, body []byte) error {
	u, secret := cfg.URL, ""
	if cfg.Protocol == OTLP {
		var err error
		if u, secret, err = otlpTarget(cfg.URL); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if cfg.Protocol == OTLP {
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("X-Drainpipe-Token", secret)
	} else {
		req.Header.Set("Content-Type", "application/logplex-1")
		req.Header.Set("User-Agent", "Logplex/drainpipe-bench")
		req.Header.Set("Logplex-Msg-Count", strconv.Itoa(cfg.BatchLines))
		req.Header.Set("Logplex-Frame-Id", frameID())
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}

func frameID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Body builds a logplex body of n router-like frames of about size bytes each.
func Body(seed, n, size int, t time.Time) []byte {
	var body, msg []byte
	for i := range n {
		msg = logplex.AppendMessage(msg[:0], drainpipe.Record{Priority: 158, Time: t, Source: "heroku", Dyno: "router", Message: routerText(seed, i, size)})
		body = logplex.AppendFrame(body, msg)
	}
	return body
}

// routerText is the i-th router line of a body, padded so its frame is about size bytes.
func routerText(seed, i, size int) string {
	text := fmt.Sprintf(`at=info method=GET path="/items/%d" host=bench.herokuapp.com request_id=%08x-%04d fwd="10.0.0.1" dyno=web.%d connect=0ms service=%dms status=200 bytes=%d protocol=https `,
		i, seed, i, i%4+1, i%97, 1000+i)
	if pad := size - 70 - len(text); pad > 0 {
		text += strings.Repeat("x", pad)
	}
	return text
}

func (c *counters) result(elapsed time.Duration) Result {
	r := Result{Lines: c.lines.Load(), Bytes: c.bytes.Load(), Requests: c.requests.Load(), Errors: c.errors.Load(), Elapsed: elapsed}
	secs := elapsed.Seconds()
	if secs > 0 {
		r.LinesPerSec = float64(r.Lines) / secs
		r.MBPerSec = float64(r.Bytes) / 1e6 / secs
	}
	c.mu.Lock()
	r.LastError = c.lastErr
	lat := slices.Clone(c.latencies)
	c.mu.Unlock()
	if len(lat) > 0 {
		slices.Sort(lat)
		r.P50Ms = ms(lat[len(lat)*50/100])
		r.P99Ms = ms(lat[min(len(lat)-1, len(lat)*99/100)])
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
