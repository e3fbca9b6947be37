package cloudwatch_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/cloudwatch"
	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

// env is a CloudWatch Logs emulator on a real socket, reached through the real SDK.
type env struct {
	emu *cwlemu.Server
	url string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	emu := cwlemu.New(cwlemu.Options{Seed: 1})
	url, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for op, n := range emu.Calls() {
			if strings.HasPrefix(op, "Describe") && n > 0 {
				t.Errorf("%d %s calls: the sink must never describe", n, op)
			}
		}
		emu.Close()
	})
	return &env{emu: emu, url: url}
}

// client is the SDK client the sink uses, with static credentials and the SDK's
// own retry delays cut short so that fault tests run fast.
func (e *env) client(t testing.TB) *cloudwatchlogs.Client {
	t.Helper()
	c, err := cloudwatch.NewClient(context.Background(), "eu-west-1", e.url, func(o *cloudwatchlogs.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond)
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testSink is a Sink with its own metrics registry.
type testSink struct {
	*cloudwatch.Sink
	reg *prometheus.Registry
	dir string
}

func (e *env) sink(t testing.TB, mod func(c *cloudwatch.Config)) *testSink {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := cloudwatch.Config{
		Client:         e.client(t),
		Dir:            t.TempDir(),
		BackoffMin:     time.Millisecond,
		BackoffMax:     5 * time.Millisecond,
		ParkBackoffMax: 10 * time.Millisecond,
		Registerer:     reg,
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := cloudwatch.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &testSink{Sink: s, reg: reg, dir: cfg.Dir}
}

// write calls Write and fails the test unless it returns nil.
func (s *testSink) write(t testing.TB, entries ...drainpipe.Entry) {
	t.Helper()
	if err := s.Write(context.Background(), entries); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// metric returns the value of the sample of name with exactly labels, 0 if none.
func (s *testSink) metric(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	samples:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(want) {
				continue
			}
			for _, l := range m.GetLabel() {
				if want[l.GetName()] != l.GetValue() {
					continue samples
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// rec is an app's line at ts.
func rec(app string, ts time.Time, msg string) drainpipe.Record {
	return drainpipe.Record{Drain: "d_" + app, App: app, Time: ts, Received: ts, Priority: 190,
		Host: "host", Source: "app", Dyno: "web.1", Message: msg}
}

// entry puts records in one journal entry, one batch per record's app.
func entry(seq uint64, recs ...drainpipe.Record) drainpipe.Entry {
	e := drainpipe.Entry{Seq: seq}
	for _, r := range recs {
		if n := len(e.Batches); n == 0 || e.Batches[n-1].App != r.App {
			e.Batches = append(e.Batches, drainpipe.Batch{Drain: r.Drain, App: r.App, Received: r.Received})
		}
		b := &e.Batches[len(e.Batches)-1]
		b.Records = append(b.Records, r)
	}
	return e
}

// lines makes n lines of app, one millisecond apart from t0, numbered from first.
func lines(app string, t0 time.Time, first, n int) []drainpipe.Record {
	recs := make([]drainpipe.Record, n)
	for i := range recs {
		recs[i] = rec(app, t0.Add(time.Duration(first+i)*time.Millisecond), fmt.Sprintf("line %d of %s", first+i, app))
	}
	return recs
}

// messages returns the messages stored in a stream, in stored order.
func (e *env) messages(group, stream string) []string {
	var out []string
	for _, ev := range e.emu.Events(group, stream) {
		out = append(out, ev.Message)
	}
	return out
}

// wantMessages fails unless the stream holds exactly the records' lines, in order.
func (e *env) wantMessages(t testing.TB, group, stream string, recs []drainpipe.Record) {
	t.Helper()
	got := e.messages(group, stream)
	if len(got) != len(recs) {
		t.Fatalf("%s %s: %d events, want %d", group, stream, len(got), len(recs))
	}
	for i, r := range recs {
		if want := "app[web.1]: " + r.Message; got[i] != want {
			t.Fatalf("%s %s: event %d is %q, want %q", group, stream, i, got[i], want)
		}
	}
}

// eventually waits for cond, which background work makes true, failing after a
// generous deadline (a hang, not a slow machine).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }
