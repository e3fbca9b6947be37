package alert_test

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/prometheus/client_golang/prometheus"
)

// TestTwoNodesOneEvaluator: two nodes of a cluster share the store; one evaluates
// (the lease holder, in serve), the other serves the API. A mute made on the other
// node reaches the evaluator's state (its next save finds the state changed and
// reads it again), and when the evaluation passes to the other node, it reloads
// the states first: the incident the first node announced is not announced again,
// and its resolution is sent once.
func TestTwoNodesOneEvaluator(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		a, _, stopA := h.node()
		b := h.apiNode()
		h.add(a, alert.Rule{Name: "h12", App: "myapp", Query: "H12", Threshold: 10, Notify: []string{"test://ops"}})
		h.lines("myapp", "router", h12(1), t0, 3*time.Minute, 60)
		sleepUntil(t0.Add(time.Minute + 40*time.Second))
		if got := h.events(); !slices.Equal(got, []string{"firing"}) {
			t.Fatalf("first node: %v, want the firing", got)
		}
		// b read the rule's state before a announced the incident.
		if err := b.Reload(t.Context()); err != nil {
			t.Fatal(err)
		}
		sleepUntil(t0.Add(2*time.Minute + 40*time.Second))
		if err := b.Mute(t.Context(), "h12", t0.Add(time.Minute)); err != nil {
			t.Fatalf("mute through the other node: %v", err)
		}
		sleepUntil(t0.Add(3*time.Minute + 40*time.Second))
		stopA()
		hist, _ := a.History("h12", 0)
		if count(hist, "mute") != 1 {
			t.Errorf("the evaluating node's history lacks the other node's mute: %v", hist)
		}
		// The evaluation passes to b.
		if err := b.Reload(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { b.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		sleepUntil(t0.Add(5 * time.Minute))
		if got := h.events(); !slices.Equal(got, []string{"firing", "resolved"}) {
			t.Fatalf("after the handover: %v, want the firing once, then the resolution", got)
		}
		st, _ := b.Get("h12")
		if st.Groups[0].State == alert.StateFiring {
			t.Errorf("the second node left the group firing: %+v", st.Groups)
		}
	})
}

// apiNode starts a Service that serves the API and does not evaluate: a node of a
// cluster that does not hold the alerts lease.
func (h *harness) apiNode() *alert.Service {
	h.t.Helper()
	cfg := h.cfg
	cfg.Registerer = prometheus.NewRegistry()
	svc, err := alert.New(context.Background(), cfg)
	if err != nil {
		h.t.Fatalf("start alerts: %v", err)
	}
	return svc
}

// TestFollowOtherNodes: two nodes on one real bucket, each following its changes:
// a rule added, muted and removed through one node's API is seen by the other
// within a second, with no restart.
func TestFollowOtherNodes(t *testing.T) {
	h := newHarness(t)
	kv := newBenchStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	node := func() *alert.Service {
		cfg := h.cfg
		cfg.Store, cfg.Registerer = kv, prometheus.NewRegistry()
		changes, err := kv.Changes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		svc, err := alert.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		go svc.Follow(ctx, changes)
		return svc
	}
	a, b := node(), node()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("after a second: %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	h.add(a, alert.Rule{Name: "h12", App: "myapp", Query: "H12", Threshold: 10, Notify: []string{"test://ops"}})
	waitFor("the rule added on a is not listed by b", func() bool { _, err := b.Get("h12"); return err == nil })
	h.add(a, alert.Rule{Name: "h12", App: "myapp", Query: "H12", Threshold: 20, Notify: []string{"test://ops"}})
	waitFor("the rule changed on a is not changed on b", func() bool {
		st, _ := b.Get("h12")
		return st.Rule.Threshold == 20
	})
	if err := b.Mute(ctx, "h12", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	waitFor("the mute made on b is not seen by a", func() bool { st, _ := a.Get("h12"); return st.Muted })
	if err := b.Remove(ctx, "h12"); err != nil {
		t.Fatal(err)
	}
	waitFor("the rule removed on b is still listed by a", func() bool { _, err := a.Get("h12"); return err != nil })
}
