package alert_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/alert/alerttest"
	"github.com/drainpipe/drainpipe/alert/jskv"
	"github.com/drainpipe/drainpipe/journal"
	"github.com/prometheus/client_golang/prometheus"
)

// outsideStore runs a real key-value store's calls on a goroutine outside any
// synctest bubble: NATS's own goroutines live outside it, and a bubble's channels
// must not be touched from outside. Calls use their own deadline, in real time.
type outsideStore struct {
	inner alert.Store
	calls chan func()
	done  chan struct{}
	mu    sync.Mutex
	// failPuts makes the next PutState calls fail, as a store that is down would.
	failPuts atomic.Int32
}

var errStoreDown = errors.New("store down (test)")

// newBenchStore opens the alert bucket in a real embedded journal in a temporary
// directory.
func newBenchStore(t testing.TB) *jskv.Store {
	t.Helper()
	ctx := context.Background()
	j, err := journal.Open(ctx, journal.Config{Dir: filepath.Join(t.TempDir(), "journal")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	kv, err := jskv.Open(ctx, j.JetStream(), 1)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// newStore opens a real store that synctest bubbles can use. Call it outside
// synctest.Test.
func newStore(t *testing.T) *outsideStore {
	t.Helper()
	kv := newBenchStore(t)
	s := &outsideStore{inner: kv, calls: make(chan func()), done: make(chan struct{})}
	go func() {
		for fn := range s.calls {
			fn()
			s.done <- struct{}{}
		}
	}()
	t.Cleanup(func() { close(s.calls) })
	return s
}

func (s *outsideStore) do(fn func(ctx context.Context)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls <- func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		fn(ctx)
	}
	<-s.done
}

func (s *outsideStore) Rules(context.Context) (m map[string][]byte, err error) {
	s.do(func(ctx context.Context) { m, err = s.inner.Rules(ctx) })
	return
}

func (s *outsideStore) PutRule(_ context.Context, name string, data []byte) (err error) {
	s.do(func(ctx context.Context) { err = s.inner.PutRule(ctx, name, data) })
	return
}

func (s *outsideStore) CreateRule(_ context.Context, name string, data []byte) (err error) {
	s.do(func(ctx context.Context) { err = s.inner.CreateRule(ctx, name, data) })
	return
}

func (s *outsideStore) DeleteRule(_ context.Context, name string) (err error) {
	s.do(func(ctx context.Context) { err = s.inner.DeleteRule(ctx, name) })
	return
}

func (s *outsideStore) States(context.Context) (m map[string]alert.Stored, err error) {
	s.do(func(ctx context.Context) { m, err = s.inner.States(ctx) })
	return
}

func (s *outsideStore) PutState(_ context.Context, name string, data []byte, rev uint64) (r uint64, err error) {
	if s.failPuts.Load() > 0 {
		s.failPuts.Add(-1)
		return 0, errStoreDown
	}
	s.do(func(ctx context.Context) { r, err = s.inner.PutState(ctx, name, data, rev) })
	return
}

func (s *outsideStore) DeleteState(_ context.Context, name string, rev uint64) (err error) {
	s.do(func(ctx context.Context) { err = s.inner.DeleteState(ctx, name, rev) })
	return
}

// harness is one node's worth of alerting over fakes of the archive and the metrics
// and a real store.
type harness struct {
	t      *testing.T
	store  *outsideStore
	arc    *alerttest.Archive
	met    *alerttest.Metrics
	rec    *alerttest.Recorder
	sealer *alert.Sealer
	cfg    alert.Config
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	key := make([]byte, alert.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	sealer, err := alert.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, store: newStore(t), arc: &alerttest.Archive{}, met: &alerttest.Metrics{}, rec: &alerttest.Recorder{}, sealer: sealer}
	h.cfg = alert.Config{Searcher: h.arc, Metrics: h.met, Store: h.store, Opener: h.rec, Sealer: sealer,
		PublicURL: "https://logs.example.com"}
	return h
}

// node starts a Service over the harness's store, as a process start would, and
// runs it until the returned stop is called (a crash: nothing is flushed).
func (h *harness) node(files ...alert.Rule) (*alert.Service, *prometheus.Registry, func()) {
	h.t.Helper()
	cfg := h.cfg
	cfg.FileRules = files
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	svc, err := alert.New(context.Background(), cfg)
	if err != nil {
		h.t.Fatalf("start alerts: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	return svc, reg, func() { cancel(); <-done }
}

func (h *harness) add(svc *alert.Service, r alert.Rule) {
	h.t.Helper()
	if _, err := svc.Add(context.Background(), r); err != nil {
		h.t.Fatalf("add %s: %v", r.Name, err)
	}
}

// lines adds n lines of app with message msg, at times spread over [from, from+span).
func (h *harness) lines(app, dyno, msg string, from time.Time, span time.Duration, n int) {
	for i := range n {
		at := from.Add(span * time.Duration(i) / time.Duration(n))
		h.arc.Add(alert.Line{Time: at, Received: at, App: app, Source: "heroku", Dyno: dyno, Message: msg})
	}
}

// events lists the events of what was delivered, as "firing", "resolved" ...
func (h *harness) events() []string {
	var out []string
	for _, s := range h.rec.Sent() {
		ev := s.Event
		if s.GroupLabel != "" {
			ev += " " + s.GroupLabel
		}
		out = append(out, ev)
	}
	return out
}

// sleepUntil sleeps (in a bubble's fake time) until t, then lets every goroutine
// of the bubble settle.
func sleepUntil(t time.Time) {
	time.Sleep(time.Until(t))
	synctest.Wait()
}

func ptr[T any](v T) *T { return &v }

func h12(n int) string {
	return fmt.Sprintf(`at=error code=H12 desc="Request timeout" method=GET path="/slow/%d" dyno=web.1 service=30000ms status=503`, n)
}

func itoa(i int) string { return fmt.Sprint(i) }

// gauge reads a metric of reg whose labels include rule.
func gauge(t *testing.T, reg *prometheus.Registry, name, rule string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			if got["rule"] != rule {
				continue
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if got[labels[i]] != labels[i+1] {
					continue metrics
				}
			}
			switch {
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
