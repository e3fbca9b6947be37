package httpd_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive/query"
	"github.com/drainpipe/drainpipe/httpd"
)

// heldExports is the archive's reader, whose exports wait until release is
// closed, saying on started that they began.
type heldExports struct {
	*query.Reader
	started chan struct{}
	release chan struct{}
}

func (h heldExports) Export(ctx context.Context, q *logstorage.Query, format query.Format, write func([]byte) error) (int64, error) {
	h.started <- struct{}{}
	select {
	case <-h.release:
	case <-ctx.Done():
	}
	return h.Reader.Export(ctx, q, format, write)
}

// TestExportsAtOnce: four exports run at once; a fifth is answered 503 with
// Retry-After while they run, and taken once one has ended.
func TestExportsAtOnce(t *testing.T) {
	t.Parallel()
	arc := openArchive(t)
	held := heldExports{Reader: query.New(query.Config{Storage: arc}), started: make(chan struct{}, 8), release: make(chan struct{})}
	ts := newTestServer(t, func(c *httpd.Config) { c.Archive, c.Reader = arc, held })
	ts.drains.add(t, "myapp")
	writeLines(t, arc, 1, drainpipe.Record{App: "myapp", Message: "a line", Source: "app", Dyno: "web.1"})
	done := make(chan int, 4)
	for range 4 {
		go func() {
			resp, _, err := adminGet(t.Context(), ts.url+"/api/apps/myapp/export")
			if err != nil {
				done <- 0
				return
			}
			done <- resp.StatusCode
		}()
	}
	for range 4 {
		<-held.started
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // an export let through would wait for release
	defer cancel()
	resp, body, err := adminGet(ctx, ts.url+"/api/apps/myapp/export")
	if err != nil {
		t.Fatalf("a fifth export: %v, want a 503 at once", err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "4 exports are running") {
		t.Errorf("a fifth export: %d %q (Retry-After %q), want 503 saying 4 are running", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	close(held.release)
	for range 4 {
		if code := <-done; code != http.StatusOK {
			t.Errorf("an export held: %d, want 200", code)
		}
	}
	go func() { <-held.started }()
	if resp, body := do(t, "GET", ts.url+"/api/apps/myapp/export", "", admin()); resp.StatusCode != http.StatusOK || !strings.Contains(body, "a line") {
		t.Errorf("an export once the others ended: %d %q, want 200 and the line", resp.StatusCode, body)
	}
}
