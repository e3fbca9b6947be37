package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAlertsOnTwoNodes: two nodes on one NATS server. A rule added through one
// node is listed by the other within seconds (the bucket is watched); one node
// at a time evaluates the rules (the holder of the alerts lease), and when it
// stops the other takes over.
func TestAlertsOnTwoNodes(t *testing.T) {
	t.Parallel()
	natsURL := startNATSServer(t)
	a := startServer(t, "", "--nats", natsURL, "--node", "a", "--metrics=false")
	// Every node of a cluster has the same admin token and alerts key.
	data := t.TempDir()
	for _, f := range []string{"admin-token", "alerts.key"} {
		raw, err := os.ReadFile(filepath.Join(a.data, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, f), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b := startServer(t, data, "--nats", natsURL, "--node", "b", "--metrics=false")
	evaluates := func(s *server) bool { return strings.Contains(s.logText(), "this node evaluates the alert rules") }
	// Both nodes see the alerts lease held by the same node, and only that node
	// evaluates.
	owner := func(s *server) string {
		for _, n := range []string{"a", "b"} {
			if s.metric("drainpipe_cluster_lease_owner", `lease="alerts"`, `node="`+n+`"`) == 1 {
				return n
			}
		}
		return ""
	}
	waitFor(t, 30*time.Second, "both nodes see one holder of the alerts lease, which evaluates", func() bool {
		o := owner(a)
		return o != "" && owner(b) == o && evaluates(map[string]*server{"a": a, "b": b}[o])
	})
	if evaluates(a) == evaluates(b) {
		t.Fatalf("node a evaluates: %v, node b: %v; want one of them", evaluates(a), evaluates(b))
	}
	h := newHook(t, 0)
	a.addAlert("errors", "--app", "shop", "--query", "error", "--threshold", "5", "--window", "1m", "--notify", h.url())
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(listAlerts(t, b), `"errors"`) {
		if time.Now().After(deadline) {
			t.Fatalf("the rule added on node a is not listed by node b after 5 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	holder, other := a, b
	if evaluates(b) {
		holder, other = b, a
	}
	if _, err := holder.stop(); err != nil {
		t.Fatalf("stop the evaluating node: %v", err)
	}
	waitFor(t, 30*time.Second, "the other node takes the evaluation over", func() bool { return evaluates(other) })
	if st := other.alertStatus("errors"); st.Rule.Threshold != 5 {
		t.Errorf("the node that took over has the rule %+v", st.Rule)
	}
}

// listAlerts is `drainpipe alerts list --json` on s.
func listAlerts(t *testing.T, s *server) string {
	t.Helper()
	out, errOut, code := s.cli("alerts", "list", "--json")
	if code != 0 {
		t.Fatalf("alerts list: exit %d: %s", code, errOut)
	}
	return out
}

// waitFor waits until cond holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: not yet: %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
