package httpd_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/httpd"
)

// body frames messages as logplex does, with its lack of STRUCTURED-DATA.
func body(msgs ...string) string {
	var b strings.Builder
	for _, m := range msgs {
		line := "<190>1 2026-11-22T10:00:00.000000+00:00 host app web.1 - " + m
		fmt.Fprintf(&b, "%d %s", len(line), line)
	}
	return b.String()
}

func basicAuth(user, pass string) http.Header {
	req, _ := http.NewRequest(http.MethodPost, "http://x", nil)
	req.SetBasicAuth(user, pass)
	return http.Header{"Authorization": req.Header.Values("Authorization")}
}

func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return b.String()
}

// TestReceiveAnswers: each kind of request gets the status logplex acts on, and
// only an accepted batch reaches the journal.
func TestReceiveAnswers(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	d, secret := ts.drains.add(t, "myapp")
	auth := basicAuth(d.ID, secret)
	with := func(extra map[string]string) http.Header {
		h := auth.Clone()
		for k, v := range extra {
			h.Set(k, v)
		}
		return h
	}
	big := strings.Repeat("x", 1<<16)
	tests := []struct {
		name   string
		method string
		body   string
		header http.Header
		code   int
		stored int // records appended by this request
	}{
		{"logplex batch", "POST", body("a", "b"), with(map[string]string{"Content-Type": "application/logplex-1"}), 204, 2},
		{"bearer (log-shuttle)", "POST", body("c"), http.Header{"Authorization": {"Bearer " + secret}}, 204, 1},
		{"basic with user token", "POST", body("d"), basicAuth("token", secret), 204, 1},
		{"gzip", "POST", gzipped(body("e")), with(map[string]string{"Content-Encoding": "gzip"}), 204, 1},
		{"empty body", "POST", "", auth, 204, 0},
		{"no credentials", "POST", body("x"), nil, 401, 0},
		{"wrong secret", "POST", body("x"), basicAuth(d.ID, secret+"x"), 401, 0},
		{"another drain's id", "POST", body("x"), basicAuth("d_other", secret), 401, 0},
		{"GET", "GET", "", auth, 405, 0},
		{"unknown content type", "POST", body("x"), with(map[string]string{"Content-Type": "application/json"}), 415, 0},
		{"unknown encoding", "POST", body("x"), with(map[string]string{"Content-Encoding": "br"}), 415, 0},
		{"corrupt gzip", "POST", "\x1f\x8bnot gzip at all", with(map[string]string{"Content-Encoding": "gzip"}), 400, 0},
		{"too large", "POST", big + "x", auth, 413, 0},
		{"gzip bomb", "POST", gzipped(big + big), with(map[string]string{"Content-Encoding": "gzip"}), 413, 0},
	}
	for _, tt := range tests {
		before := len(ts.journal.appended())
		resp, text := do(t, tt.method, ts.url+"/logs", tt.body, tt.header)
		if resp.StatusCode != tt.code {
			t.Errorf("%s: status %d (%q), want %d", tt.name, resp.StatusCode, text, tt.code)
		}
		stored := 0
		for _, b := range ts.journal.appended()[before:] {
			stored += len(b.Records)
		}
		if stored != tt.stored {
			t.Errorf("%s: %d records journaled, want %d", tt.name, stored, tt.stored)
		}
		if tt.code == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", tt.name)
		}
		if tt.code == 405 && resp.Header.Get("Allow") != "POST" {
			t.Errorf("%s: 405 without Allow: POST", tt.name)
		}
	}
}

// TestReceiveBatch: the journaled batch carries the drain, the sender's batch id
// and its drop headers, and each record its drain and app.
func TestReceiveBatch(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	d, secret := ts.drains.add(t, "myapp")
	h := basicAuth(d.ID, secret)
	h.Set("Logplex-Frame-Id", "frame-1")
	h.Set("Logplex-Drop-Count", "3")
	h.Set("User-Agent", "Logplex/v72")
	if resp, text := do(t, "POST", ts.url+"/logs", body("one", "two"), h); resp.StatusCode != 204 {
		t.Fatalf("status %d: %s", resp.StatusCode, text)
	}
	h = http.Header{"Authorization": {"Bearer " + secret}, "X-Request-Id": {"req-1"}, "Logplex-Lost-Count": {"2"}}
	if resp, text := do(t, "POST", ts.url+"/logs", body("- three"), h); resp.StatusCode != 204 {
		t.Fatalf("status %d: %s", resp.StatusCode, text)
	}
	got := ts.journal.appended()
	if len(got) != 2 {
		t.Fatalf("%d batches journaled, want 2", len(got))
	}
	first, second := got[0], got[1]
	if first.Drain != d.ID || first.App != "myapp" || first.Key != "frame-1" || first.Dropped != 3 || len(first.Records) != 2 {
		t.Errorf("first batch %+v", first)
	}
	for _, r := range first.Records {
		if r.Drain != d.ID || r.App != "myapp" || r.Source != "app" || r.Dyno != "web.1" {
			t.Errorf("record %+v", r)
		}
	}
	// log-shuttle's "- -": its STRUCTURED-DATA is not taken for the message.
	if second.Key != "req-1" || second.Dropped != 2 || second.Records[0].Message != "three" {
		t.Errorf("second batch %+v", second)
	}
}

// TestReceiveJournalTrouble: a journal that is full, failing or slow is a 503 with
// Retry-After, which logplex retries, never a 4xx, which it would not.
func TestReceiveJournalTrouble(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		store string // Config.StoreName
		err   error
		delay time.Duration
		want  string
	}{
		{"full", "", drainpipe.ErrJournalFull, 0, "journal full"},
		{"unavailable", "", errors.New("nats: no servers"), 0, "journal unavailable"},
		{"slow", "", nil, time.Minute, "journal too slow"},
		{"lambda unavailable", "CloudWatch", errors.New("throttled"), 0, "CloudWatch unavailable"},
		{"lambda slow", "CloudWatch", nil, time.Minute, "CloudWatch too slow"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, func(c *httpd.Config) { c.StoreName = tt.store })
			ts.journal.err, ts.journal.delay = tt.err, tt.delay
			d, secret := ts.drains.add(t, "myapp")
			start := time.Now()
			resp, text := do(t, "POST", ts.url+"/logs", body("a"), basicAuth(d.ID, secret))
			if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(text, tt.want) {
				t.Fatalf("status %d, Retry-After %q, %q; want 503 saying %q", resp.StatusCode, resp.Header.Get("Retry-After"), text, tt.want)
			}
			if took := time.Since(start); took > 30*time.Second {
				t.Fatalf("answered after %v: the append timeout (200 ms here) was not applied", took)
			}
		})
	}
}

// TestHealthzWhenJournalLost: a journal lost under the process (Config.Live)
// fails /healthz with the reason, so that a supervisor restarts it.
func TestHealthzWhenJournalLost(t *testing.T) {
	t.Parallel()
	var lost atomic.Pointer[error]
	ts := newTestServer(t, func(c *httpd.Config) {
		c.Live = func() error {
			if e := lost.Load(); e != nil {
				return *e
			}
			return nil
		}
	})
	if resp, text := do(t, "GET", ts.url+"/healthz", "", nil); resp.StatusCode != 200 {
		t.Fatalf("/healthz before: %d %q", resp.StatusCode, text)
	}
	err := errors.New("the journal's stream DRAINPIPE_LOGS is gone from the NATS servers")
	lost.Store(&err)
	if resp, text := do(t, "GET", ts.url+"/healthz", "", nil); resp.StatusCode != 503 || !strings.Contains(text, "is gone") {
		t.Errorf("/healthz with the journal lost: %d %q, want 503 saying why", resp.StatusCode, text)
	}
}

// TestReceiveWhileDrainStoreLost: while the drain store lost drains, credentials it
// does not know may be good ones it forgot: 503, which logplex retries, not 401;
// /healthz fails; a drain it knows is served as always.
func TestReceiveWhileDrainStoreLost(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	d, secret := ts.drains.add(t, "known")
	ts.drains.health = errors.New("the drain store lost drains: the journal directory was lost")
	resp, text := do(t, "POST", ts.url+"/logs", body("a"), basicAuth("d_forgotten", "a-secret-it-forgot"))
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("unknown credentials: status %d %q, want 503 with Retry-After", resp.StatusCode, text)
	}
	if resp, _ := do(t, "POST", ts.url+"/logs", body("a"), basicAuth(d.ID, secret)); resp.StatusCode != 204 {
		t.Errorf("a known drain: status %d, want 204", resp.StatusCode)
	}
	if resp, text := do(t, "GET", ts.url+"/healthz", "", nil); resp.StatusCode != 503 || !strings.Contains(text, "lost drains") {
		t.Errorf("/healthz: %d %q, want 503 saying why", resp.StatusCode, text)
	}
}

// TestReceiveCountsARetriedBatchOnce: a batch retried with the same id is answered
// 204 but its lines, malformed ones included, are counted once (issue 9 item 14).
func TestReceiveCountsARetriedBatchOnce(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	d, secret := ts.drains.add(t, "myapp")
	h := basicAuth(d.ID, secret)
	h.Set("Logplex-Frame-Id", "retried")
	b := body("good") + "17 not syslog at all" + body("also good")
	for range 3 {
		if resp, text := do(t, "POST", ts.url+"/logs", b, h); resp.StatusCode != 204 {
			t.Fatalf("status %d: %s", resp.StatusCode, text)
		}
	}
	for name, want := range map[string]float64{
		"drainpipe_receiver_malformed_lines_total":   1,
		"drainpipe_receiver_lines_total":             3,
		"drainpipe_receiver_duplicate_batches_total": 2,
	} {
		if got := gathered(t, ts, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

// gathered sums the samples of a counter family.
func gathered(t *testing.T, ts *testServer, name string) float64 {
	t.Helper()
	mfs, err := ts.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

var (
	_ httpd.Journal = (*fakeJournal)(nil)
	_ httpd.Drains  = (*fakeDrains)(nil)
	_ httpd.Archive = (*fakeArchive)(nil)
)

// TestParseInPlace: with Config.ParseInPlace the records point into the body
// buffer, which requests reuse; what the journal takes during Append is each
// request's own lines, however many requests come at once.
func TestParseInPlace(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *httpd.Config) { c.ParseInPlace = true })
	d, secret := ts.drains.add(t, "myapp")
	const senders, requests = 4, 25
	done := make(chan struct{})
	for s := range senders {
		go func() {
			defer func() { done <- struct{}{} }()
			for r := range requests {
				msg := fmt.Sprintf("sender %d request %d %s", s, r, strings.Repeat("x", r*40))
				if resp, text := do(t, "POST", ts.url+"/logs", body(msg, msg+" again"), basicAuth(d.ID, secret)); resp.StatusCode != 204 {
					t.Errorf("status %d: %s", resp.StatusCode, text)
				}
			}
		}()
	}
	for range senders {
		<-done
	}
	got := map[string]int{}
	for _, b := range ts.journal.appended() {
		if len(b.Records) != 2 || b.Records[1].Message != b.Records[0].Message+" again" || b.Records[0].Dyno != "web.1" {
			t.Fatalf("a batch's records are not what one request sent: %+v", b.Records)
		}
		got[b.Records[0].Message]++
	}
	if len(got) != senders*requests {
		t.Fatalf("%d distinct batches, want %d", len(got), senders*requests)
	}
}
