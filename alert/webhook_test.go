package alert_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/alert/notify"
	"github.com/prometheus/client_golang/prometheus"
)

// receiver is a real webhook receiver on 127.0.0.1: it keeps every body posted to
// it, decoded as generic JSON so that a field's absence shows, and answers 204.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var b map[string]any
		if err := json.Unmarshal(raw, &b); err != nil {
			http.Error(w, "not JSON", http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, b)
		rc.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) received() []map[string]any {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]map[string]any(nil), rc.bodies...)
}

// clock is a settable clock for a Service driven by hand (Evaluate, Deliver).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// TestWebhookBodyReason: the webhook's body carries a reason on resolved
// notifications only, as the README documents; firing and renotify have none.
func TestWebhookBodyReason(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	clk := &clock{t: t0}
	h := newHarness(t)
	rc := newReceiver(t)
	opener, err := notify.NewOpener(notify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.arc.Mark = clk.now
	cfg := h.cfg
	cfg.Opener, cfg.Now, cfg.Registerer = opener, clk.now, prometheus.NewRegistry()
	ctx := context.Background()
	svc, err := alert.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.add(svc, alert.Rule{Name: "h12", App: "myapp", Query: "H12", Renotify: time.Minute, Notify: []string{"webhook+" + rc.srv.URL + "/hook"}})
	h.lines("myapp", "router", h12(1), t0, 2*time.Minute, 6) // windows 0 and 1 breach, 2 does not
	for i := range 3 {
		clk.set(t0.Add(time.Duration(i+1)*time.Minute + alert.DefaultGrace + time.Second))
		if err := svc.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
		svc.Deliver(ctx)
	}
	got := rc.received()
	for i, want := range []struct {
		event  string
		reason any // nil: no reason field
	}{
		{"firing", nil},
		{"renotify", nil},
		{"resolved", "recovered"},
	} {
		if i >= len(got) {
			t.Fatalf("received %d bodies, want 3: %v", len(got), got)
		}
		reason, has := got[i]["reason"]
		if got[i]["event"] != want.event || reason != want.reason || (want.reason == nil && has) {
			t.Errorf("body %d: event %v, reason %#v (present %v); want %s with reason %#v", i, got[i]["event"], reason, has, want.event, want.reason)
		}
	}
}
