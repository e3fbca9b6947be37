package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/cloudwatch"
	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
	"github.com/drainpipe/drainpipe/logplex"
	"github.com/drainpipe/drainpipe/metrics"
)

// routerBody is n router lines of now, service times 1..n ms, half on web.1.
func routerBody(n int) []byte {
	var body []byte
	now := time.Now().UTC()
	for i := 1; i <= n; i++ {
		dyno := "web.1"
		if i%2 == 0 {
			dyno = "web.2"
		}
		msg := fmt.Sprintf(`at=info method=GET path="/" host=x.herokuapp.com request_id=r%d fwd="1.2.3.4" dyno=%s connect=1ms service=%dms status=200 bytes=100 protocol=https`, i, dyno, i)
		body = logplex.AppendFrame(body, logplex.AppendMessage(nil, drainpipe.Record{Priority: 158, Time: now, Source: "heroku", Dyno: "router", Message: msg}))
	}
	return body
}

// TestMetricsFromLogs runs the real server: router, dyno, add-on and l2met lines
// become series in the CLI, in Prometheus and, with --cloudwatch, as EMF.
func TestMetricsFromLogs(t *testing.T) {
	t.Parallel()
	emu, url := startEmulator(t, cwlemu.Faults{})
	// The fixture's lines are years old: a retention that keeps their intervals
	// (the history's retention prunes old ones at the first flush).
	s := startServerEnv(t, "", awsEnv(url), "--cloudwatch", "--metrics-interval", "1s", "--retention", "876000h")
	u := s.addDrain("metricsapp")
	if code := post(t, u, bytes.NewReader(readFixture(t, "heroku-drain-realistic.logplex")), logplexHeaders); code != 204 {
		t.Fatalf("status %d", code)
	}
	if code := post(t, u, bytes.NewReader(routerBody(200)), logplexHeaders); code != 204 {
		t.Fatalf("status %d", code)
	}
	var series []metrics.Series
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, errOut, code := s.cli("metrics", "metricsapp", "--since", "200000h", "--json")
		if code != 0 {
			t.Fatalf("metrics: exit %d %s", code, errOut)
		}
		series = nil
		if err := json.Unmarshal([]byte(out), &series); err != nil {
			t.Fatalf("metrics --json: %v: %q", err, out)
		}
		// The fixture's intervals (years old) may be flushed before routerBody's
		// (now) have ended: wait for both.
		svc := find(series, "router.service", "web.1")
		all := svc != nil && svc.Count >= 100
		for _, want := range [][2]string{{"memory_rss", "web.1"}, {"dyno.errors.R14", "worker.1"}, {"router.errors.H12", "web.1"}} {
			all = all && find(series, want[0], want[1]) != nil
		}
		if all || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	svc := find(series, "router.service", "web.1")
	if svc == nil {
		t.Fatalf("no router.service for web.1 in %+v", series)
	}
	// web.1 served the odd requests of routerBody (1, 3, ... 199 ms) plus the fixture's.
	if svc.Count < 100 || svc.Max < 199 || svc.P50 < 90 || svc.P50 > 110 {
		t.Errorf("router.service web.1 = %+v, want ~100 requests with p50 ≈ 100 ms", *svc)
	}
	for _, want := range [][2]string{{"memory_rss", "web.1"}, {"dyno.errors.R14", "worker.1"}, {"router.errors.H12", "web.1"}} {
		if find(series, want[0], want[1]) == nil {
			t.Errorf("no %s for %s", want[0], want[1])
		}
	}
	// A distribution has quantiles; a count has none, and the table says "-".
	if h12 := find(series, "router.errors.H12", "web.1"); !svc.Distribution || h12 == nil || h12.Distribution {
		t.Errorf("distribution: router.service %v, router.errors.H12 %+v; want true and false", svc.Distribution, h12)
	}
	out, _, code := s.cli("metrics", "metricsapp", "--since", "200000h", "--name", "router.")
	if code != 0 || !strings.Contains(out, "router.service") || strings.Contains(out, "memory_rss") {
		t.Errorf("metrics --name router.: exit %d\n%s", code, out)
	}
	if s.metric("drainpipe_log_router_service_ms", `app="metricsapp"`) == 0 {
		t.Error("/metrics has no drainpipe_log_router_service_ms for the app")
	}
	// EMF: the fresh router metrics reach CloudWatch as documents in their own stream.
	deadline = time.Now().Add(30 * time.Second)
	var docs []cwlemu.Event
	for len(docs) == 0 && time.Now().Before(deadline) {
		docs = emu.Events("/heroku/metricsapp", cloudwatch.EMFStream)
		time.Sleep(200 * time.Millisecond)
	}
	if len(docs) == 0 {
		t.Fatal("no EMF documents in CloudWatch")
	}
	if err := metrics.ValidateEMF([]byte(docs[0].Message)); err != nil {
		t.Fatalf("EMF document invalid: %v\n%s", err, docs[0].Message)
	}
}

func find(series []metrics.Series, name, source string) *metrics.Series {
	for i := range series {
		if series[i].Name == name && series[i].Source == source {
			return &series[i]
		}
	}
	return nil
}
