package httpd_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/drains"
	"github.com/drainpipe/drainpipe/httpd"
	"github.com/drainpipe/drainpipe/journal"
)

// otlpEnv is a real receiver: embedded JetStream journal, the drain store in it,
// the HTTP server on 127.0.0.1, and a sink reading the journal back.
type otlpEnv struct {
	j      *journal.Journal
	srv    *httptest.Server
	drain  drainpipe.Drain
	secret string
	reg    *prometheus.Registry
	sink   *journalSink
}

// newOTLPEnv starts the receiver. With consume false nothing reads the journal, so a
// small MaxBytes fills it.
func newOTLPEnv(t *testing.T, jcfg journal.Config, hcfg httpd.Config, consume bool) *otlpEnv {
	t.Helper()
	ctx := context.Background()
	jcfg.Dir = t.TempDir()
	jcfg.Sinks = []string{"otlp-test"}
	j, err := journal.Open(ctx, jcfg)
	if err != nil {
		t.Fatalf("open journal: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	ds, err := drains.Open(ctx, drains.Config{JetStream: j.JetStream()})
	if err != nil {
		t.Fatalf("drains: %v", err)
	}
	t.Cleanup(func() { ds.Close() })
	d, secret, err := drainpipe.NewDrain("myapp", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ds.Add(ctx, d); err != nil {
		t.Fatalf("add drain: %v", err)
	}
	reg := prometheus.NewRegistry()
	hcfg.Journal, hcfg.Drains, hcfg.Registerer, hcfg.Gatherer = j, ds, reg, reg
	srv := httptest.NewServer(httpd.New(hcfg, nil))
	t.Cleanup(srv.Close)
	e := &otlpEnv{j: j, srv: srv, drain: d, secret: secret, reg: reg, sink: &journalSink{}}
	if consume {
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = j.Consume(cctx, e.sink, journal.ConsumeOptions{})
		}()
		t.Cleanup(func() { cancel(); <-done })
	}
	return e
}

// post sends body to path with the drain's token and the given headers.
func (e *otlpEnv) post(t *testing.T, path, contentType string, body []byte, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Drainpipe-Token", e.secret)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// journalSink keeps what the journal delivers.
type journalSink struct {
	mu      sync.Mutex
	entries []drainpipe.Entry
	n       int
}

func (s *journalSink) Name() string { return "otlp-test" }

func (s *journalSink) Write(_ context.Context, entries []drainpipe.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries = append(s.entries, entries...)
	for _, e := range entries {
		for _, b := range e.Batches {
			s.n += len(b.Records)
		}
	}
	return nil
}

// wait returns the entries once they hold at least n records, failing the test
// after 10 s.
func (s *journalSink) wait(t *testing.T, n int) []drainpipe.Entry {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		got, entries := s.n, append([]drainpipe.Entry(nil), s.entries...)
		s.mu.Unlock()
		if got >= n {
			return entries
		}
		if time.Now().After(deadline) {
			t.Fatalf("the journal delivered %d records in 10 s, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// records returns the records of entries.
func records(entries []drainpipe.Entry) []drainpipe.Record {
	var out []drainpipe.Record
	for _, e := range entries {
		for _, b := range e.Batches {
			out = append(out, b.Records...)
		}
	}
	return out
}

// attr returns the value of r's attribute key, or "".
func attr(r drainpipe.Record, key string) string {
	for _, a := range r.Attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}
