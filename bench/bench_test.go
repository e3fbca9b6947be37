package bench_test

import (
	"cmp"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/bench"
	"github.com/drainpipe/drainpipe/logplex"
)

// drain is a small fake drain: it checks the credentials, parses every body as
// the receiver would, and counts what it took.
type drain struct {
	mu       sync.Mutex
	lines    int
	requests int
	frameIDs map[string]bool
	bad      []string
}

func (d *drain) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pass, ok := r.BasicAuth(); !ok || pass != "s3cret" {
		http.Error(w, "missing or wrong drain credentials", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the run ended mid-request: the sender went away
	}
	recs, st := logplex.AppendRecords(nil, body, logplex.Options{Received: time.Now()})
	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests++
	d.lines += len(recs)
	if d.frameIDs == nil {
		d.frameIDs = map[string]bool{}
	}
	id := r.Header.Get("Logplex-Frame-Id")
	switch {
	case st.Malformed > 0:
		d.bad = append(d.bad, "malformed frames")
	case r.Header.Get("Logplex-Msg-Count") != strconv.Itoa(len(recs)):
		d.bad = append(d.bad, "Logplex-Msg-Count "+r.Header.Get("Logplex-Msg-Count")+" for "+strconv.Itoa(len(recs))+" frames")
	case id == "" || d.frameIDs[id]:
		d.bad = append(d.bad, "frame id "+id+" missing or repeated")
	case r.Header.Get("Content-Type") != "application/logplex-1":
		d.bad = append(d.bad, "content type "+r.Header.Get("Content-Type"))
	}
	d.frameIDs[id] = true
	w.WriteHeader(http.StatusNoContent)
}

// serve serves d on 127.0.0.1 and returns its drain URL, with the secret it takes.
func serve(t *testing.T, d *drain) string {
	t.Helper()
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return strings.Replace(srv.URL, "http://", "http://d_bench:s3cret@", 1) + "/logs"
}

func TestRun(t *testing.T) {
	t.Parallel()
	d := &drain{}
	u := serve(t, d)
	var progress int
	r, err := bench.Run(t.Context(), bench.Config{URL: u, Duration: 1500 * time.Millisecond, Connections: 3, BatchLines: 20, LineBytes: 120,
		Progress: func(bench.Result) { progress++ }})
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.bad) > 0 {
		t.Fatalf("the drain saw bad requests: %v", d.bad[:min(5, len(d.bad))])
	}
	// A request cut by the end of the run reaches the drain but is not counted.
	if r.Requests == 0 || r.Errors != 0 || r.Requests > int64(d.requests) || r.Requests < int64(d.requests)-3 {
		t.Fatalf("result %+v; the drain took %d requests", r, d.requests)
	}
	if r.Lines != r.Requests*20 || r.LinesPerSec <= 0 || r.MBPerSec <= 0 || r.P50Ms <= 0 || r.P99Ms < r.P50Ms {
		t.Fatalf("result %+v", r)
	}
	if progress == 0 {
		t.Error("no progress report in 1.5 s")
	}
}

func TestRunWrongSecret(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&drain{})
	t.Cleanup(srv.Close)
	u := strings.Replace(srv.URL, "http://", "http://d_bench:wrong@", 1) + "/logs"
	r, err := bench.Run(t.Context(), bench.Config{URL: u, Duration: 300 * time.Millisecond, Connections: 1, BatchLines: 5})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 0 || r.Errors == 0 || !strings.Contains(r.LastError, "401") {
		t.Fatalf("result %+v, want every request refused with 401", r)
	}
}

func TestRunBadURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "ftp://host/logs", "not a url", "http:///logs"} {
		if _, err := bench.Run(t.Context(), bench.Config{URL: u}); err == nil {
			t.Errorf("URL %q accepted", u)
		}
	}
}

// TestBody: a generated body parses back into n well-formed router lines of about
// the size asked for.
func TestBody(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	body := bench.Body(7, 50, 250, now)
	recs, st := logplex.AppendRecords(nil, body, logplex.Options{Received: now})
	if len(recs) != 50 || st.Malformed != 0 {
		t.Fatalf("%d records, stats %+v", len(recs), st)
	}
	if per := len(body) / 50; per < 230 || per > 270 {
		t.Errorf("%d bytes a frame, want about 250", per)
	}
	for _, r := range recs {
		if r.Source != "heroku" || r.Dyno != "router" || !r.Time.Equal(now) || !strings.HasPrefix(r.Message, "at=info method=GET") {
			t.Fatalf("record %+v", r)
		}
	}
}

// TestRunSamplesServerRSS: the run reads the server's resident memory from its
// /metrics and reports the largest value seen, in MiB; a server without the
// gauge reports 0.
func TestRunSamplesServerRSS(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	rss := []float64{100, 300, 200} // MiB, served in turn, then the last again
	calls, largest := 0, 0.0
	mux := http.NewServeMux()
	mux.Handle("/logs", &drain{})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		v := rss[min(calls, len(rss)-1)]
		calls++
		largest = max(largest, v)
		mu.Unlock()
		_, _ = io.WriteString(w, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"+
			"# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes_total 7\nprocess_resident_memory_bytes "+
			strconv.FormatFloat(v*(1<<20), 'e', -1, 64)+"\n")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	u := strings.Replace(srv.URL, "http://", "http://d_bench:s3cret@", 1) + "/logs"
	r, err := bench.Run(t.Context(), bench.Config{URL: u, Duration: 2500 * time.Millisecond, Connections: 1, BatchLines: 5})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls < 2 || r.ServerRSSPeakMB != largest {
		t.Errorf("server_rss_peak_mb = %v after %d samples, want %v (the largest sample)", r.ServerRSSPeakMB, calls, largest)
	}
	bare := httptest.NewServer(&drain{})
	t.Cleanup(bare.Close)
	r, err = bench.Run(t.Context(), bench.Config{URL: strings.Replace(bare.URL, "http://", "http://d_bench:s3cret@", 1) + "/logs",
		Duration: 300 * time.Millisecond, Connections: 1, BatchLines: 5})
	if err != nil || r.ServerRSSPeakMB != 0 {
		t.Errorf("a server without /metrics: server_rss_peak_mb = %v, %v; want 0", r.ServerRSSPeakMB, err)
	}
}

// TestRunRefused: a configuration that cannot run is refused before any body is
// built or any request sent, naming the flag to change, and never echoing the
// drain secret: a line, a body over the server's largest, more bodies than the
// generator may hold, negative values, a malformed URL.
func TestRunRefused(t *testing.T) {
	t.Parallel()
	d := &drain{}
	u := serve(t, d)
	tests := []struct {
		name string
		cfg  bench.Config
		flag string
		want string
	}{
		{"line over MaxLineBytes", bench.Config{LineBytes: bench.MaxLineBytes + 1, BatchLines: 1, Connections: 1}, "line-bytes", "want 1 to 65536"},
		{"body over MaxBody", bench.Config{BatchLines: 40_000, LineBytes: 250, Connections: 1, MaxBody: 8 << 20}, "batch-lines", "lower --batch-lines or --line-bytes"},
		{"body just over MaxBody", bench.Config{BatchLines: 400, LineBytes: 250, Connections: 1, MaxBody: int64(len(bench.Body(0, 400, 250, time.Now()))) - 1}, "batch-lines", "largest body"},
		{"bodies held over 1 GiB", bench.Config{BatchLines: 600, LineBytes: 250, Connections: 1000}, "connections", "lower --connections"},
		{"negative duration", bench.Config{Duration: -time.Second}, "duration", "--duration -1s"},
		{"negative connections", bench.Config{Connections: -1}, "connections", "--connections -1"},
		{"negative batch lines", bench.Config{BatchLines: -1}, "batch-lines", "--batch-lines -1"},
		{"negative line bytes", bench.Config{LineBytes: -1}, "line-bytes", "--line-bytes -1"},
		{"not http", bench.Config{URL: "ftp://d_bench:s3cret@host/logs"}, "url", "--url"},
		{"no host", bench.Config{URL: "http://d_bench:s3cret@/logs"}, "url", "--url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg.URL == "" {
				cfg.URL = u
			}
			cfg.Duration = cmp.Or(cfg.Duration, 200*time.Millisecond)
			cfg.MetricsURL = "-"
			_, err := bench.Run(t.Context(), cfg)
			var ce *bench.ConfigError
			if !errors.As(err, &ce) || ce.Flag != tt.flag || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run: %v, want a ConfigError on %s saying %q", err, tt.flag, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Run: %v: holds the drain secret", err)
			}
		})
	}
	// A body exactly at the server's largest is sent.
	body := int64(len(bench.Body(0, 400, 250, time.Now())))
	r, err := bench.Run(t.Context(), bench.Config{URL: u, Duration: 300 * time.Millisecond, Connections: 1, BatchLines: 400, LineBytes: 250, MaxBody: body, MetricsURL: "-"})
	if err != nil || r.Requests == 0 {
		t.Fatalf("a body of exactly MaxBody: %+v, %v; want it sent", r, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.requests != int(r.Requests) && d.requests != int(r.Requests)+1 {
		t.Errorf("the drain took %d requests, the run counted %d: refused runs sent some", d.requests, r.Requests)
	}
}

// TestRunServerRSSUnknown: when the server's peak memory is unknown, the result
// says why: metrics unreachable, an error answer, or no gauge.
func TestRunServerRSSUnknown(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.Handle("/logs", &drain{})
	mux.HandleFunc("/bare", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "go_goroutines 7\n") })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	tests := []struct {
		metrics string
		want    string
	}{
		{gone.URL + "/metrics", "unreachable"},
		{srv.URL + "/metrics", "404 Not Found"},
		{srv.URL + "/bare", "gave no process_resident_memory_bytes"},
	}
	for _, tt := range tests {
		r, err := bench.Run(t.Context(), bench.Config{URL: strings.Replace(srv.URL, "http://", "http://d_bench:s3cret@", 1) + "/logs",
			Duration: 300 * time.Millisecond, Connections: 1, BatchLines: 5, MetricsURL: tt.metrics})
		if err != nil || r.ServerRSSPeakMB != 0 || !strings.Contains(r.ServerRSSUnknown, tt.want) {
			t.Errorf("metrics %s: peak %v, unknown %q, %v; want 0 and %q", tt.metrics, r.ServerRSSPeakMB, r.ServerRSSUnknown, err, tt.want)
		}
	}
}
