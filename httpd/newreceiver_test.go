package httpd_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/httpd"
)

// recordingJournal keeps what it is given, as a journal would.
type recordingJournal struct {
	mu      sync.Mutex
	batches []*drainpipe.Batch
}

func (j *recordingJournal) Append(_ context.Context, b *drainpipe.Batch) (bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.batches = append(j.batches, b)
	return false, nil
}

// oneDrain authenticates one secret.
type oneDrain struct {
	d      drainpipe.Drain
	secret string
}

func (o oneDrain) Authenticate(secret string) (drainpipe.Drain, bool) {
	return o.d, secret == o.secret
}

// TestNewReceiver: the receiver alone answers at any path, as POST /logs does,
// and serves nothing else of the server.
func TestNewReceiver(t *testing.T) {
	t.Parallel()
	d := drainpipe.Drain{ID: "d_one", App: "myapp"}
	j := &recordingJournal{}
	h := httpd.NewReceiver(httpd.ReceiverConfig{Journal: j, Drains: oneDrain{d, "s3cret"}, Now: func() time.Time { return time.Unix(1e9, 0) }})
	msg := "<190>1 2024-05-01T10:00:00.000000+00:00 host app web.1 - Started GET \"/\"\n"
	body := fmt.Sprintf("%d %s", len(msg), msg)
	for _, tc := range []struct {
		method, path, user, pass string
		want                     int
	}{
		{http.MethodPost, "/logs", "d_one", "s3cret", http.StatusNoContent},
		{http.MethodPost, "/", "d_one", "s3cret", http.StatusNoContent},
		{http.MethodPost, "/prod/anything", "token", "s3cret", http.StatusNoContent},
		{http.MethodPost, "/logs", "d_one", "wrong", http.StatusUnauthorized},
		{http.MethodPost, "/logs", "d_other", "s3cret", http.StatusUnauthorized},
		{http.MethodGet, "/healthz", "d_one", "s3cret", http.StatusMethodNotAllowed},
		{http.MethodGet, "/api/drains", "d_one", "s3cret", http.StatusMethodNotAllowed},
	} {
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(body))
		req.SetBasicAuth(tc.user, tc.pass)
		req.Header.Set("Content-Type", "application/logplex-1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s %s as %s: %d, want %d", tc.method, tc.path, tc.user, rec.Code, tc.want)
		}
	}
	if len(j.batches) != 3 {
		t.Fatalf("%d batches journaled, want 3", len(j.batches))
	}
	if b := j.batches[0]; b.Drain != "d_one" || b.App != "myapp" || len(b.Records) != 1 || b.Records[0].Message != `Started GET "/"` {
		t.Errorf("batch %+v", b)
	}
}
