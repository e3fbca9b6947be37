package bench

import (
	"bufio"
	"context"
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
}

// sampleRSS samples every interval until the returned func is called; that func
// takes a last sample and returns the peak in bytes (0 when the server never
// answered with the gauge).
func sampleRSS(ctx context.Context, metrics string, interval time.Duration) func() float64 {
	// A busy server answers /metrics slowly (its journal gauges ask NATS).
	s := &rssSampler{url: metrics, client: &http.Client{Timeout: 5 * time.Second}}
	if metrics == "" {
		return func() float64 { return 0 }
	}
	s.sample(ctx)
	stop := tick.Every(interval, func() { s.sample(ctx) })
	return func() float64 {
		stop()
		s.sample(context.WithoutCancel(ctx))
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.peak
	}
}

func (s *rssSampler) sample(ctx context.Context) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return
	}
	v, ok := gaugeValue(bufio.NewScanner(resp.Body), rssMetric)
	if !ok {
		return
	}
	s.mu.Lock()
	s.peak = max(s.peak, v)
	s.mu.Unlock()
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
