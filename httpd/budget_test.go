package httpd_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/httpd"
)

// gauge reads a gauge's value.
func gauge(t *testing.T, ts *testServer, name string) float64 {
	t.Helper()
	mfs, err := ts.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}

// bigBody is a logplex body of about n bytes.
func bigBody(n int) string {
	msgs := make([]string, n/300)
	for i := range msgs {
		msgs[i] = strings.Repeat("m", 240)
	}
	return body(msgs...)
}

// post sends body as a stream without a length (chunked) when chunked is set,
// else with its Content-Length, and returns the answer's status and Retry-After.
func post(ctx context.Context, url, body string, h http.Header, chunked bool) (int, string, error) {
	var r io.Reader = strings.NewReader(body)
	if chunked {
		r = io.MultiReader(r) // hides the length
	}
	req, err := http.NewRequestWithContext(ctx, "POST", url, r)
	if err != nil {
		return 0, "", err
	}
	req.Header = h.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), nil
}

// TestBodiesInFlightStayWithinTheBudget sends many large bodies at once, with and
// without a length, through a slow journal: they are all journaled, and the body
// buffers held at once never exceed MaxBodyInFlight and the reserve of one whole
// body.
func TestBodiesInFlightStayWithinTheBudget(t *testing.T) {
	t.Parallel()
	const budget = 3 << 20 // shared room: with the reserve for one 1 MiB body, 4 MiB in all
	ts := newTestServer(t, func(c *httpd.Config) {
		c.MaxBody, c.MaxBodyInFlight, c.BodyWait, c.AppendTimeout = 1<<20, budget, time.Minute, 10*time.Second
	})
	ts.journal.setDelay(100 * time.Millisecond)
	d, secret := ts.drains.add(t, "big")
	b := bigBody(900 << 10)
	var wg sync.WaitGroup
	const senders = 32
	for i := range senders {
		wg.Go(func() {
			code, _, err := post(t.Context(), ts.url+"/logs", b, basicAuth(d.ID, secret), i%2 == 1)
			if err != nil || code != 204 {
				t.Errorf("sender %d: status %d, %v", i, code, err)
			}
		})
	}
	wg.Wait()
	if got := len(ts.journal.appended()); got != senders {
		t.Fatalf("%d batches journaled, want %d", got, senders)
	}
	peak := gauge(t, ts, "drainpipe_receiver_body_bytes_in_flight_peak")
	if bound := gauge(t, ts, "drainpipe_receiver_body_bytes_in_flight_max"); bound != budget+1<<20+1 {
		t.Errorf("drainpipe_receiver_body_bytes_in_flight_max = %.0f, want the budget and one whole body, %d", bound, budget+1<<20+1)
	}
	if peak > budget+1<<20+1 || peak < 1<<20 {
		t.Errorf("body bytes in flight peaked at %.0f, want within (1 MiB, %d]", peak, budget+1<<20+1)
	}
	if now := gauge(t, ts, "drainpipe_receiver_body_bytes_in_flight"); now != 0 {
		t.Errorf("%.0f body bytes still held after every answer", now)
	}
}

// TestBodiesOverTheBudgetAre503: while the bodies in flight fill the budget (its
// shared room and the reserve a growing body may use), a further request waits
// BodyWait, then is answered 503 with Retry-After (logplex and OTLP exporters
// retry it) and counted; once room is made, requests pass again.
func TestBodiesOverTheBudgetAre503(t *testing.T) {
	t.Parallel()
	const budget = 1 << 20 // with MaxBody 1 MiB: 1 MiB of shared room, and the reserve
	ts := newTestServer(t, func(c *httpd.Config) {
		c.MaxBody, c.MaxBodyInFlight, c.BodyWait, c.AppendTimeout = 1<<20, budget, 100*time.Millisecond, time.Minute
	})
	ts.journal.setDelay(time.Hour) // Append waits for the request's end: the holders hold
	d, secret := ts.drains.add(t, "full")
	h := basicAuth(d.ID, secret)
	ctx, release := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	hold := func(size int, chunked bool, until float64) {
		wg.Go(func() { _, _, _ = post(ctx, ts.url+"/logs", bigBody(size), h, chunked) })
		deadline := time.Now().Add(30 * time.Second)
		for gauge(t, ts, "drainpipe_receiver_body_bytes_in_flight") < until {
			if time.Now().After(deadline) {
				t.Fatalf("the holders never took %.0f bytes: %.0f in flight", until, gauge(t, ts, "drainpipe_receiver_body_bytes_in_flight"))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	hold(300<<10, false, 512<<10) // takes a 512 KiB buffer
	hold(900<<10, true, 2<<20)    // grows (128, 256, 512 KiB) past the shared room: takes the reserve
	b := bigBody(900 << 10)
	for _, tt := range []struct {
		name    string
		path    string
		chunked bool
	}{{"logplex", "/logs", false}, {"logplex chunked", "/logs", true}, {"otlp", "/v1/logs", false}} {
		hh := h.Clone()
		if tt.path == "/v1/logs" {
			hh = http.Header{"Content-Type": {"application/x-protobuf"}, "Authorization": {"Bearer " + secret}}
		}
		code, retry, err := post(t.Context(), ts.url+tt.path, b, hh, tt.chunked)
		if err != nil || code != 503 || retry == "" {
			t.Errorf("%s over the budget: status %d, Retry-After %q, %v; want 503 with Retry-After", tt.name, code, retry, err)
		}
	}
	if got := gathered(t, ts, "drainpipe_receiver_body_budget_refused_total"); got < 3 {
		t.Errorf("drainpipe_receiver_body_budget_refused_total = %v, want 3", got)
	}
	if peak := gauge(t, ts, "drainpipe_receiver_body_bytes_in_flight_peak"); peak > budget+1<<20+1 {
		t.Errorf("body bytes in flight peaked at %.0f, over the budget and the reserve %d", peak, budget+1<<20+1)
	}
	release()
	wg.Wait()
	ts.journal.setDelay(0)
	if code, _, err := post(t.Context(), ts.url+"/logs", b, h, true); err != nil || code != 204 {
		t.Errorf("after the holders left: status %d, %v; want 204", code, err)
	}
}

// TestBodiesInFlightBoundTheRequestsAtWork: the budget is how many requests the
// server reads, parses and journals at once, however many connections send (the
// rest wait unread, in the kernel's buffers); and a body larger than the whole
// budget still passes, through the reserve, one at a time.
func TestBodiesInFlightBoundTheRequestsAtWork(t *testing.T) {
	t.Parallel()
	const first = 128 << 10 // a body's first buffer, and its room in the budget
	for _, tt := range []struct {
		name      string
		bodyBytes int
		senders   int
		wantMost  int // Appends under way at once, at most
	}{
		{"small bodies", 2 << 10, 16, 4},             // 4 first buffers fit in the budget
		{"bodies over the budget", 1500 << 10, 6, 1}, // each needs the reserve
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, func(c *httpd.Config) {
				c.MaxBody, c.MaxBodyInFlight, c.BodyWait, c.AppendTimeout = 2<<20, 4*first, time.Minute, 10*time.Second
			})
			ts.journal.setDelay(50 * time.Millisecond)
			d, secret := ts.drains.add(t, "many")
			b := bigBody(tt.bodyBytes)
			var wg sync.WaitGroup
			for i := range tt.senders {
				wg.Go(func() {
					code, _, err := post(t.Context(), ts.url+"/logs", b, basicAuth(d.ID, secret), i%2 == 1 && tt.bodyBytes > first)
					if err != nil || code != 204 {
						t.Errorf("sender %d: status %d, %v", i, code, err)
					}
				})
			}
			wg.Wait()
			if got := len(ts.journal.appended()); got != tt.senders {
				t.Fatalf("%d batches journaled, want %d", got, tt.senders)
			}
			if most := ts.journal.mostAtOnce(); most > tt.wantMost || most < 1 {
				t.Errorf("%d Appends under way at once, want 1 to %d", most, tt.wantMost)
			}
		})
	}
}
