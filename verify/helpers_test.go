package verify_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/logplex"
	"github.com/drainpipe/drainpipe/verify"
)

// answer is what the test drain does with one request.
type answer struct {
	status int  // 0 is 204
	store  bool // keep the lines (also when status is not 2xx)
	twice  bool // keep them twice
	hangUp bool // close the connection without an answer
}

// req is one request as the test drain saw it.
type req struct {
	n       int // 1-based arrival order
	frameID string
	try     int // 1 for the first request with this frame id
	first   int // n of the first request with this frame id
	lines   []drainpipe.Record
}

// id and half of the request's one verify line ("begin" or "end"), -1 when none.
func (r req) pair() (id int, half string) {
	f := strings.Fields(r.lines[0].Message)
	if len(f) != 4 || f[0] != "drainpipe-verify" {
		return -1, ""
	}
	id, _ = strconv.Atoi(f[2])
	return id, f[3]
}

// drain is a real HTTP drain endpoint on 127.0.0.1 that parses logplex bodies
// and keeps the lines in memory, answering as decide says. It is also the
// Reader over what it keeps, each line readable lag after it was stored.
type drain struct {
	url    string
	srv    *httptest.Server
	decide func(r req) answer
	// dedup drops a batch whose Logplex-Frame-Id was stored before, as drainpipe does.
	dedup bool
	// lag is how long a stored line takes to become readable, as a store's
	// indexing or a sink's batching makes it.
	lag time.Duration

	mu       sync.Mutex
	n        int
	stored   []verify.Seen
	storedAt []time.Time
	frames   map[string]bool
	tries    map[string]int // frame id → requests
	firsts   map[string]int // frame id → n of its first request
	badMeths int
}

var _ verify.Reader = (*drain)(nil)

func newDrain(t testing.TB, decide func(r req) answer) *drain {
	t.Helper()
	d := &drain{decide: decide, frames: map[string]bool{}, tries: map[string]int{}, firsts: map[string]int{}}
	d.srv = httptest.NewServer(d)
	t.Cleanup(d.srv.Close)
	d.url = strings.Replace(d.srv.URL, "http://", "http://d.test:s3cret@", 1) + "/logs"
	return d
}

func (d *drain) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	now := time.Now()
	if user, pass, ok := r.BasicAuth(); r.Method != http.MethodPost || !ok || user != "d.test" || pass != "s3cret" ||
		r.Header.Get("Content-Type") != "application/logplex-1" {
		d.mu.Lock()
		d.badMeths++
		d.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	recs, _ := logplex.AppendRecords(nil, body, logplex.Options{Received: now})
	d.mu.Lock()
	d.n++
	rq := req{n: d.n, frameID: r.Header.Get("Logplex-Frame-Id"), lines: recs}
	d.tries[rq.frameID]++
	if d.firsts[rq.frameID] == 0 {
		d.firsts[rq.frameID] = d.n
	}
	rq.try, rq.first = d.tries[rq.frameID], d.firsts[rq.frameID]
	a := answer{store: true}
	if d.decide != nil {
		a = d.decide(rq)
	}
	if a.store && !(d.dedup && d.frames[rq.frameID]) {
		d.frames[rq.frameID] = true
		for range 1 + btoi(a.twice) {
			for _, rec := range recs {
				d.stored = append(d.stored, verify.Seen{Message: rec.Message})
				d.storedAt = append(d.storedAt, now)
			}
		}
	}
	d.mu.Unlock()
	if a.hangUp {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
		return
	}
	if a.status == 0 {
		a.status = http.StatusNoContent
	}
	w.WriteHeader(a.status)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Read implements verify.Reader over the lines kept.
func (d *drain) Read(_ context.Context, runID string, _ time.Time) ([]verify.Seen, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []verify.Seen
	for i, s := range d.stored {
		if i < len(d.storedAt) && time.Since(d.storedAt[i]) < d.lag {
			continue // not readable yet
		}
		if strings.Contains(s.Message, runID) {
			out = append(out, s)
		}
	}
	return out, nil
}

// triesPerFrame returns how many frames were tried n times, for each n.
func (d *drain) triesPerFrame() map[int]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[int]int{}
	for _, n := range d.tries {
		out[n]++
	}
	return out
}

// run runs verify against d with the test's settings.
func run(t *testing.T, d *drain, count int) verify.Report {
	t.Helper()
	rep, err := verify.Run(t.Context(), verify.Config{URL: d.url, Count: count, Concurrency: 8, Wait: 300 * time.Millisecond, Reader: d})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkSums(t, rep, count)
	return rep
}

// checkSums checks what holds of every report: the counts add up and match the lists.
func checkSums(t *testing.T, rep verify.Report, count int) {
	t.Helper()
	if rep.Sent != count || rep.Found+rep.Missing+rep.Unacknowledged != rep.Sent {
		t.Errorf("sent %d found %d missing %d unacknowledged %d: want %d sent, all accounted for",
			rep.Sent, rep.Found, rep.Missing, rep.Unacknowledged, count)
	}
	if len(rep.MissingIDs) != rep.Missing || len(rep.UnacknowledgedIDs) != rep.Unacknowledged || len(rep.DuplicateIDs) != rep.Duplicates {
		t.Errorf("id lists %d/%d/%d do not match counts %d/%d/%d", len(rep.MissingIDs), len(rep.UnacknowledgedIDs),
			len(rep.DuplicateIDs), rep.Missing, rep.Unacknowledged, rep.Duplicates)
	}
	if rep.OK() != (rep.Found == count) {
		t.Errorf("OK() = %v with %d of %d found", rep.OK(), rep.Found, count)
	}
	// CloudWatch's ingestion times are whole milliseconds, so on a fast machine a
	// pair can be visible in under one: a latency may be 0, never negative.
	if rep.Found > 0 && (rep.P50Ms < 0 || rep.P99Ms < rep.P50Ms) {
		t.Errorf("latency p50 %v p99 %v: want 0 <= p50 <= p99", rep.P50Ms, rep.P99Ms)
	}
}

// ids collects the pair ids of the requests that pick chooses, sorted, unique.
type ids struct {
	mu  sync.Mutex
	set map[int]bool
}

func (s *ids) add(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set == nil {
		s.set = map[int]bool{}
	}
	s.set[id] = true
}

func (s *ids) sorted() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []int{}
	for id := range s.set {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
