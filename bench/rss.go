package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe/internal/tick"
)

// rssMetric is the Prometheus process collector's resident memory gauge.
const rssMetric = "process_resident_memory_bytes"

// metricsURL is the /metrics address of the server behind a drain URL, without
// the drain's credentials.
func metricsURL(drainURL string) string {
	u, err := url.Parse(drainURL)
	if err != nil {
		return ""
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/metrics"}).String()
}

// rssSampler reads the server's resident memory from its /metrics while the run
// lasts, and keeps the largest value seen.
type rssSampler struct {
	url    string
	client *http.Client
	mu     sync.Mutex
	peak   float64 // bytes
	why    string  // why the last sample gave no value
}

// sampleRSS samples every interval until the returned func is called; that func
// takes a last sample and returns the peak in bytes, or 0 and why when the server
// never answered with the gauge.
func sampleRSS(ctx context.Context, metrics string, interval time.Duration) func() (float64, string) {
	// A busy server answers /metrics slowly (its journal gauges ask NATS).
	s := &rssSampler{url: metrics, client: &http.Client{Timeout: 5 * time.Second}}
	if metrics == "" {
		return func() (float64, string) { return 0, "no metrics URL" }
	}
	s.sample(ctx)
	stop := tick.Every(interval, func() { s.sample(ctx) })
	return func() (float64, string) {
		stop()
		s.sample(context.WithoutCancel(ctx))
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.peak > 0 {
			return s.peak, ""
		}
		return 0, s.why
	}
}

func (s *rssSampler) sample(ctx context.Context) {
	v, err := s.read(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.why = err.Error()
		return
	}
	s.peak = max(s.peak, v)
}

// read reads the gauge once.
func (s *rssSampler) read(ctx context.Context) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return 0, fmt.Errorf("metrics URL: %w", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("its metrics are unreachable: %w", err) // the client's errors hide a password
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("its metrics at %s answered %s", req.URL.Redacted(), resp.Status)
	}
	v, ok := gaugeValue(bufio.NewScanner(resp.Body), rssMetric)
	if !ok {
		return 0, fmt.Errorf("its metrics at %s gave no %s", req.URL.Redacted(), rssMetric)
	}
	return v, nil
}

// gaugeValue finds an unlabelled sample of name in a Prometheus text exposition.
func gaugeValue(sc *bufio.Scanner, name string) (float64, bool) {
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), name+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		return v, err == nil
	}
	return 0, false
}
