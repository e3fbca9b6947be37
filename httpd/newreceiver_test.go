package httpd_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/httpd"
)

// TestNewReceiver: the receiver alone answers at any path, as POST /logs does,
// and serves nothing else of the server.
func TestNewReceiver(t *testing.T) {
	t.Parallel()
	drains := newFakeDrains()
	d, secret := drains.add(t, "myapp")
	j := &fakeJournal{}
	h := httpd.NewReceiver(httpd.ReceiverConfig{Journal: j, Drains: drains, Now: func() time.Time { return time.Unix(1e9, 0) }})
	msg := "<190>1 2024-05-01T10:00:00.000000+00:00 host app web.1 - Started GET \"/\"\n"
	body := fmt.Sprintf("%d %s", len(msg), msg)
	for _, tc := range []struct {
		method, path, user, pass string
		want                     int
	}{
		{http.MethodPost, "/logs", d.ID, secret, http.StatusNoContent},
		{http.MethodPost, "/", d.ID, secret, http.StatusNoContent},
		{http.MethodPost, "/prod/anything", "token", secret, http.StatusNoContent},
		{http.MethodPost, "/logs", d.ID, "wrong", http.StatusUnauthorized},
		{http.MethodPost, "/logs", "d_other", secret, http.StatusUnauthorized},
		{http.MethodGet, "/healthz", d.ID, secret, http.StatusMethodNotAllowed},
		{http.MethodGet, "/api/drains", d.ID, secret, http.StatusMethodNotAllowed},
	} {
		rec := postReceiver(h, tc.method, tc.path, tc.user, tc.pass, body)
		if rec.Code != tc.want {
			t.Errorf("%s %s as %s: %d, want %d", tc.method, tc.path, tc.user, rec.Code, tc.want)
		}
	}
	got := j.appended()
	if len(got) != 3 {
		t.Fatalf("%d batches journaled, want 3", len(got))
	}
	if b := got[0]; b.Drain != d.ID || b.App != "myapp" || len(b.Records) != 1 || b.Records[0].Message != `Started GET "/"` {
		t.Errorf("batch %+v", b)
	}
}

// TestNewReceiverUnhealthyDrains: when its drains cannot be trusted to know every
// secret (a Lambda whose SSM read failed), the receiver alone answers unknown
// credentials as the server does for a lost drain store: 503 with Retry-After,
// which logplex retries, not a 401 it takes as final; known ones still pass.
func TestNewReceiverUnhealthyDrains(t *testing.T) {
	t.Parallel()
	drains := newFakeDrains()
	d, secret := drains.add(t, "myapp")
	drains.health = errors.New("drains not read")
	j := &fakeJournal{}
	h := httpd.NewReceiver(httpd.ReceiverConfig{Journal: j, Drains: drains})
	msg := "<190>1 2024-05-01T10:00:00.000000+00:00 host app web.1 - hello\n"
	body := fmt.Sprintf("%d %s", len(msg), msg)
	rec := postReceiver(h, http.MethodPost, "/", d.ID, "unknown", body)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || rec.Header().Get("WWW-Authenticate") != "" {
		t.Errorf("unknown secret, drains unhealthy: %d %v, want 503 with Retry-After", rec.Code, rec.Header())
	}
	if rec := postReceiver(h, http.MethodPost, "/", d.ID, secret, body); rec.Code != http.StatusNoContent {
		t.Errorf("known secret, drains unhealthy: %d, want 204", rec.Code)
	}
	if n := len(j.appended()); n != 1 {
		t.Errorf("%d batches journaled, want 1", n)
	}
}

// postReceiver sends one logplex request to h with Basic credentials.
func postReceiver(h http.Handler, method, path, user, pass, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.SetBasicAuth(user, pass)
	req.Header.Set("Content-Type", "application/logplex-1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
