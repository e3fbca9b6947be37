package httpd_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/drainpipe/drainpipe/httpd"
)

// TestRefusedWhileSending: a sender with wrong credentials (or a wrong content
// type) that is still sending its body when it is answered reads the answer, not
// a reset connection: an answer that never arrives is retried (logplex,
// exporters) instead of taken as final, and a user never sees why.
func TestRefusedWhileSending(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *httpd.Config) { c.MaxBody = 1 << 20 })
	payload := []byte(strings.Repeat(body(strings.Repeat("a line of a busy app ", 10)), 400)) // ~100 KB, as bench and logplex send
	for _, tt := range []struct {
		path, contentType string
		want              int
	}{
		{"/logs", "application/logplex-1", http.StatusUnauthorized},
		{"/v1/logs", "application/x-protobuf", http.StatusUnauthorized},
		{"/v1/logs", "text/plain", http.StatusUnsupportedMediaType},
	} {
		const workers, each = 4, 250
		var wg sync.WaitGroup
		errs := make(chan string, workers*each)
		for range workers {
			wg.Go(func() {
				for range each {
					req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, ts.url+tt.path, bytes.NewReader(payload))
					req.Header.Set("Content-Type", tt.contentType)
					req.SetBasicAuth("d_nobody", "wrong-secret")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						errs <- err.Error()
						continue
					}
					resp.Body.Close()
					if resp.StatusCode != tt.want {
						errs <- resp.Status
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		var got []string
		for e := range errs {
			got = append(got, e)
		}
		if len(got) > 0 {
			t.Errorf("POST %s (%s), wrong credentials, 100 KB bodies: %d of %d not answered %d: %s",
				tt.path, tt.contentType, len(got), workers*each, tt.want, strings.Join(got[:min(3, len(got))], "; "))
		}
	}
}
