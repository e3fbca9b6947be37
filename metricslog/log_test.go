package metricslog_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/metrics"
	"github.com/drainpipe/drainpipe/metricslog"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func engine(t *testing.T) *server.Server {
	t.Helper()
	srv, err := server.NewServer(&server.Options{JetStream: true, StoreDir: t.TempDir(), DontListen: true, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv
}

// openLog opens the log as the named node would, with a connection of its own.
func openLog(t *testing.T, srv *server.Server, node string, maxPayload int64) *metricslog.Log {
	t.Helper()
	nc, err := nats.Connect("", nats.InProcessServer(srv))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	if maxPayload == 0 {
		maxPayload = nc.MaxPayload()
	}
	l, err := metricslog.Open(context.Background(), metricslog.Config{JetStream: js, MaxPayload: maxPayload, Node: node})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func openStore(t *testing.T) *metrics.Store {
	t.Helper()
	st, err := metrics.OpenStore(context.Background(), metrics.StoreConfig{Path: filepath.Join(t.TempDir(), "metrics.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// replicate runs store's replication until the test ends.
func replicate(t *testing.T, l *metricslog.Log, st *metrics.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = l.Replicate(ctx, st); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func counter(app, id string, start time.Time, n float64) metrics.Interval {
	return metrics.Interval{ID: id, App: app, Name: "router.requests", Kind: metrics.Counter,
		Start: start, Length: time.Minute, Count: n, Sum: n, Min: 1, Max: 1, Last: 1, LastAt: start}
}

// sum is the store's router.requests sum for app over the hour around t0.
func sum(t *testing.T, st *metrics.Store, app string, t0 time.Time) float64 {
	t.Helper()
	series, err := st.Query(context.Background(), app, t0.Add(-time.Hour), t0.Add(time.Hour), "router.requests")
	if err != nil {
		t.Fatal(err)
	}
	if len(series) == 0 {
		return 0
	}
	return series[0].Sum
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestClaimFences: once another node claimed a partition, its last owner cannot
// publish; the new owner resumes after the last complete publish.
func TestClaimFences(t *testing.T) {
	t.Parallel()
	srv := engine(t)
	a, b := openLog(t, srv, "a", 0), openLog(t, srv, "b", 0)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ca, err := a.Claim(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if ca.Through != (metrics.Position{}) {
		t.Fatalf("a fresh partition resumes at %+v", ca.Through)
	}
	ca, err = a.Publish(ctx, ca, metrics.Position{Journal: "j1", Seq: 40}, []metrics.Interval{counter("app", "x-1", t0, 5)})
	if err != nil {
		t.Fatal(err)
	}
	cb, err := b.Claim(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if cb.Through != (metrics.Position{Journal: "j1", Seq: 40}) {
		t.Fatalf("b resumes at %+v, want j1/40", cb.Through)
	}
	if _, err := a.Publish(ctx, ca, metrics.Position{Journal: "j1", Seq: 50}, nil); !errors.Is(err, metricslog.ErrFenced) {
		t.Fatalf("a published after b claimed: %v", err)
	}
	if _, err := b.Publish(ctx, cb, metrics.Position{Journal: "j1", Seq: 60}, nil); err != nil {
		t.Fatalf("b: %v", err)
	}
	// Another partition is another ledger.
	if c, err := a.Claim(ctx, 4); err != nil || c.Through != (metrics.Position{}) {
		t.Fatalf("partition 4: %+v %v", c, err)
	}
}

// TestReplicaKeepsLatestSnapshot: a bucket published open, then again, then closed
// is one row in every replica, whatever the order of restarts.
func TestReplicaKeepsLatestSnapshot(t *testing.T) {
	t.Parallel()
	srv := engine(t)
	l := openLog(t, srv, "a", 0)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	c, _ := l.Claim(ctx, 0)
	for i, n := range []float64{3, 7, 10} {
		var err error
		if c, err = l.Publish(ctx, c, metrics.Position{Journal: "j", Seq: uint64(i + 1)}, []metrics.Interval{counter("app", "b-1", t0, n)}); err != nil {
			t.Fatal(err)
		}
	}
	c, _ = l.Publish(ctx, c, metrics.Position{Journal: "j", Seq: 4}, []metrics.Interval{counter("app", "b-2", t0, 2)})
	st := openStore(t)
	stop := runReplica(l, st)
	waitFor(t, "the replica", func() bool { return sum(t, st, "app", t0) == 12 })
	stop()
	// A restart resumes after the last message applied: nothing counts twice.
	if _, err := l.Publish(ctx, c, metrics.Position{Journal: "j", Seq: 5}, []metrics.Interval{counter("app", "b-2", t0, 4)}); err != nil {
		t.Fatal(err)
	}
	replicate(t, l, st)
	waitFor(t, "the replica after a restart", func() bool { return sum(t, st, "app", t0) == 14 })
	other := openStore(t)
	replicate(t, openLog(t, srv, "b", 0), other)
	waitFor(t, "a second replica", func() bool { return sum(t, other, "app", t0) == 14 })
}

func runReplica(l *metricslog.Log, st *metrics.Store) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = l.Replicate(ctx, st); close(done) }()
	return func() { cancel(); <-done }
}

// TestPublishInParts: a publish bigger than a message goes in parts, applied
// together; one left unfinished (its node died) is never applied.
func TestPublishInParts(t *testing.T) {
	t.Parallel()
	srv := engine(t)
	small := openLog(t, srv, "a", 70<<10) // parts of at most 6 KiB
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var ivs []metrics.Interval
	for i := range 400 {
		ivs = append(ivs, counter(fmt.Sprintf("app%03d", i), fmt.Sprintf("p-%d", i), t0, 1))
	}
	c, _ := small.Claim(ctx, 0)
	if _, err := small.Publish(ctx, c, metrics.Position{Journal: "j", Seq: 9}, ivs); err != nil {
		t.Fatal(err)
	}
	// An unfinished publish: the first part of two, then the node died and another
	// claimed the partition.
	nc, _ := nats.Connect("", nats.InProcessServer(srv))
	defer nc.Close()
	msg := nats.NewMsg("drainpipe.metrics.0")
	msg.Data = metrics.EncodeIntervals([]metrics.Interval{counter("ghost", "g-1", t0, 99)})
	msg.Header.Set("Drainpipe-Part", "1/2")
	msg.Header.Set("Drainpipe-Publish", "unfinished")
	js, _ := jetstream.New(nc)
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if _, err := openLog(t, srv, "b", 0).Claim(ctx, 0); err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	replicate(t, small, st)
	waitFor(t, "every part applied", func() bool { return sum(t, st, "app399", t0) == 1 && sum(t, st, "app000", t0) == 1 })
	if got := sum(t, st, "ghost", t0); got != 0 {
		t.Fatalf("an unfinished publish was applied: %v", got)
	}
}

// TestQuantilesAcrossNodes: three nodes in turn own one partition's metrics (the
// first dies after publishing some of what it aggregated, the second hands over
// cleanly); every node's replica then has every sample exactly once, and its
// quantiles within 1% of the true ones.
func TestQuantilesAcrossNodes(t *testing.T) {
	t.Parallel()
	srv := engine(t)
	t0 := time.Now().Truncate(time.Minute).Add(-10 * time.Minute)
	const n = 6000
	values := make([]float64, n)
	entries := make([]drainpipe.Entry, n/20)
	for i := range values {
		values[i] = 1 + rand.Float64()*rand.Float64()*3000
		e := &entries[i/20]
		e.Journal, e.Seq = "journal-1", uint64(i/20+1)
		if len(e.Batches) == 0 {
			e.Batches = []drainpipe.Batch{{App: "shop"}}
		}
		e.Batches[0].Records = append(e.Batches[0].Records, drainpipe.Record{App: "shop",
			Time: t0.Add(time.Duration(i) * 10 * time.Millisecond), Source: "heroku", Dyno: "router",
			Message: fmt.Sprintf(`at=info method=GET path="/" host=shop.example.com request_id=r%d fwd="1.2.3.4" dyno=web.1 connect=0ms service=%.3fms status=200 bytes=10 protocol=https`, i, values[i])})
	}
	type node struct {
		sink *metrics.Sink
		log  *metricslog.Log
		st   *metrics.Store
	}
	newNode := func(name string) *node {
		agg, err := metrics.NewAggregator(metrics.Config{})
		if err != nil {
			t.Fatal(err)
		}
		l := openLog(t, srv, name, 0)
		st := openStore(t)
		replicate(t, l, st)
		return &node{sink: metrics.NewSink(metrics.SinkConfig{Aggregator: agg, History: l}), log: l, st: st}
	}
	a, b, c := newNode("a"), newNode("b"), newNode("c")
	ctx := context.Background()
	write := func(nd *node, from, to int) {
		t.Helper()
		if err := nd.sink.Part(0).Write(ctx, entries[from:to]); err != nil {
			t.Fatal(err)
		}
	}
	// a aggregates 100 entries and publishes, aggregates 50 more and dies.
	if err := a.sink.Claim(ctx, 0); err != nil {
		t.Fatal(err)
	}
	write(a, 0, 100)
	publish(t, a.sink)
	write(a, 100, 150)
	// b claims: the journal delivers again from a's last acknowledgement (here the
	// start), b skips what a published, and hands over cleanly after 250.
	if err := b.sink.Claim(ctx, 0); err != nil {
		t.Fatal(err)
	}
	write(b, 0, 250)
	b.sink.Release(ctx, 0)
	if got := durable(b.sink); got != 0 {
		t.Fatalf("a released partition says %d is durable", got)
	}
	if err := c.sink.Claim(ctx, 0); err != nil {
		t.Fatal(err)
	}
	write(c, 200, len(entries)) // delivered again from before b's last publish
	publish(t, c.sink)
	slices.Sort(values)
	for _, nd := range []*node{a, b, c} {
		waitFor(t, "every replica", func() bool {
			s, _ := nd.st.Query(ctx, "shop", t0.Add(-time.Hour), t0.Add(time.Hour), "router.service")
			return len(s) == 1 && s[0].Count == n
		})
		s, _ := nd.st.Query(ctx, "shop", t0.Add(-time.Hour), t0.Add(time.Hour), "router.service")
		for q, got := range map[float64]float64{0.5: s[0].P50, 0.95: s[0].P95, 0.99: s[0].P99} {
			want := values[int(math.Ceil(q*n))-1]
			if math.Abs(got-want) > 0.0101*want {
				t.Errorf("p%v = %v, want %v within 1%%", q*100, got, want)
			}
		}
	}
}

// publish runs a sink's publishing until it has published what it holds.
func publish(t *testing.T, s *metrics.Sink) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(ctx) })
	cancel() // Run publishes once more as it stops
	wg.Wait()
}

func durable(s *metrics.Sink) uint64 {
	return s.Part(0).(interface{ Durable(string) uint64 }).Durable("journal-1")
}
