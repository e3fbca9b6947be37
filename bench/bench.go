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
	// MaxBody, if set, is the largest request body the server takes (drainpipe's
	// --max-body): a run whose bodies are larger is refused before any is built,
	// instead of sending requests the server can only refuse.
	MaxBody int64
}

// MaxLineBytes bounds Config.LineBytes: 64 KiB, the largest frame drainpipe's
// syslog receiver takes, is already six times Heroku's longest line (10,000 bytes).
const MaxLineBytes = 64 << 10

// maxHeld bounds the request bodies a run holds at once: each connection builds
// bodiesPerConn of them before it sends.
const (
	maxHeld       = 1 << 30
	bodiesPerConn = 8
)

// ConfigError is a Config that cannot run: Run sends nothing and builds no body.
type ConfigError struct {
	// Flag names the `drainpipe bench` flag at fault ("url", "line-bytes"), if one is.
	Flag string
	msg  string
}

func (e *ConfigError) Error() string { return e.msg }

func configErrorf(flag, format string, a ...any) error {
	return &ConfigError{Flag: flag, msg: fmt.Sprintf(format, a...)}
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
	// ServerRSSUnknown says why ServerRSSPeakMB is 0: the metrics were unreachable,
	// answered an error, or had no process_resident_memory_bytes.
	ServerRSSUnknown string `json:"server_rss_unknown,omitempty"`
}

// setDefaults fills in the zero values and checks the rest, before any body is
// built. Its messages name the flags of `drainpipe bench`, the command behind it.
func (c *Config) setDefaults() error {
	if c.Duration == 0 {
		c.Duration = 10 * time.Second
	}
	if c.Connections == 0 {
		c.Connections = 16
	}
	if c.BatchLines == 0 {
		c.BatchLines = 400
	}
	if c.LineBytes == 0 {
		c.LineBytes = 250
	}
	switch c.MetricsURL {
	case "":
		c.MetricsURL = metricsURL(c.URL)
	case "-":
		c.MetricsURL = ""
	}
	// The URL holds the drain's secret: it is never echoed.
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return configErrorf("url", "--url: want the drain URL, http(s)://ID:SECRET@host/logs")
	case c.Duration < 0:
		return configErrorf("duration", "--duration %v: want more than 0", c.Duration)
	case c.Connections < 0:
		return configErrorf("connections", "--connections %d: want more than 0", c.Connections)
	case c.BatchLines < 0:
		return configErrorf("batch-lines", "--batch-lines %d: want more than 0", c.BatchLines)
	case c.LineBytes < 0 || c.LineBytes > MaxLineBytes:
		return configErrorf("line-bytes", "--line-bytes %d: want 1 to %d", c.LineBytes, MaxLineBytes)
	}
	switch c.Protocol {
	case "":
		c.Protocol = Logplex
	case Logplex, OTLP:
	default:
		return configErrorf("otlp", "protocol %q: want %s or %s", c.Protocol, Logplex, OTLP)
	}
	return c.checkBodies()
}

// checkBodies refuses bodies over the server's MaxBody, and more bodies than
// maxHeld bytes in all, measuring a body a frame at a time without building it.
func (c *Config) checkBodies() error {
	held := int64(maxHeld / bodiesPerConn / c.Connections)
	limit := held
	if c.MaxBody > 0 {
		limit = min(limit, c.MaxBody)
	}
	size := bodySize(c.BatchLines, c.LineBytes, limit)
	if c.Protocol == OTLP && size <= limit {
		// Its records are about the size of the frames: one body settles it.
		size = int64(len(OTLPBody(0, c.BatchLines, c.LineBytes, time.Now())))
	}
	switch {
	case c.MaxBody > 0 && size > c.MaxBody:
		return configErrorf("batch-lines", "a request of --batch-lines %d × --line-bytes %d is over the server's largest body (%s): lower --batch-lines or --line-bytes",
			c.BatchLines, c.LineBytes, mib(c.MaxBody))
	case size > held:
		return configErrorf("connections", "--connections %d × %d bodies of --batch-lines %d × --line-bytes %d is over %s of request bodies: lower --connections, --batch-lines or --line-bytes",
			c.Connections, bodiesPerConn, c.BatchLines, c.LineBytes, mib(maxHeld))
	}
	return nil
}

func mib(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) + " MiB" }

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
	peak, why := stopRSS()
	r.ServerRSSPeakMB, r.ServerRSSUnknown = peak/(1<<20), why
	return r, nil
}

func progress(cfg *Config, c *counters, start time.Time) func() {
	if cfg.Progress == nil {
		return func() {}
	}
	return tick.Every(time.Second, func() { cfg.Progress(c.result(time.Since(start))) })
}

// send is one connection's loop: bodies are built once (bodiesPerConn of them,
// with distinct lines) and sent round robin, so the generator spends its CPU on
// sending.
func send(ctx context.Context, client *http.Client, cfg *Config, worker int, c *counters) {
	bodies := make([][]byte, bodiesPerConn)
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
		msg = logplex.AppendMessage(msg[:0], routerRecord(seed, i, size, t))
		body = logplex.AppendFrame(body, msg)
	}
	return body
}

// bodySize is len(Body(seed, n, size, t)), whatever the seed and t (they only
// fill fixed-width fields), measured a frame at a time; past limit it stops and
// returns what it measured so far, more than limit.
func bodySize(n, size int, limit int64) int64 {
	var msg, frame []byte
	t := time.Now()
	var total int64
	for i := 0; i < n && total <= limit; i++ {
		msg = logplex.AppendMessage(msg[:0], routerRecord(0, i, size, t))
		frame = logplex.AppendFrame(frame[:0], msg)
		total += int64(len(frame))
	}
	return total
}

func routerRecord(seed, i, size int, t time.Time) drainpipe.Record {
	return drainpipe.Record{Priority: 158, Time: t, Source: "heroku", Dyno: "router", Message: routerText(seed, i, size)}
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
