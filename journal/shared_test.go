package journal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/journal"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsServer starts a NATS server listening on 127.0.0.1, as an external server
// of the journal, and returns its client URL and its monitoring URL.
func natsServer(t *testing.T, syncAlways bool) (string, string) {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, HTTPHost: "127.0.0.1", HTTPPort: -1,
		JetStream: true, StoreDir: t.TempDir(), SyncAlways: syncAlways, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv.ClientURL(), fmt.Sprintf("http://%s", srv.MonitorAddr())
}

// node opens a journal on a shared external server, as one drainpipe node would.
func node(t *testing.T, url string, cfg journal.Config) *journal.Journal {
	t.Helper()
	cfg.URL, cfg.Shared = url, true
	return open(t, cfg)
}

// TestPartitionsByApp: each app's lines go to one partition, in order; a consumer
// of every partition sees them all in journal order.
func TestPartitionsByApp(t *testing.T) {
	t.Parallel()
	url, _ := natsServer(t, true)
	j := node(t, url, journal.Config{Partitions: 4})
	if j.Partitions() != 4 {
		t.Fatalf("partitions = %d", j.Partitions())
	}
	ctx := context.Background()
	perApp := map[string][]string{}
	for i := range 40 {
		b := batch(fmt.Sprintf("d%d", i%8), fmt.Sprintf("k%d", i), 3)
		if _, err := j.Append(ctx, b); err != nil {
			t.Fatal(err)
		}
		for _, r := range b.Records {
			perApp[b.App] = append(perApp[b.App], r.Message)
		}
	}
	seen := map[string]int{} // app → partition
	total := 0
	for p := range 4 {
		c := &collector{name: "cloudwatch"}
		n := 0
		for app, lines := range perApp {
			if j.PartitionOf(app) == p {
				n += len(lines)
			}
		}
		if n == 0 {
			continue
		}
		runUntil(t, j, c, journal.ConsumeOptions{Partitioned: true, Partition: p, AckWait: time.Second}, n)
		got := map[string][]string{}
		for _, r := range c.records() {
			got[r.App] = append(got[r.App], r.Message)
		}
		for app, lines := range got {
			if prev, ok := seen[app]; ok && prev != p {
				t.Fatalf("app %s in partitions %d and %d", app, prev, p)
			}
			seen[app] = p
			if !slices.Equal(lines, perApp[app]) {
				t.Fatalf("partition %d, app %s: lines out of order or missing", p, app)
			}
			total += len(lines)
		}
	}
	if total != 120 {
		t.Fatalf("partitions delivered %d lines, want 120", total)
	}
	all := runUntil(t, j, &collector{name: "archive-n1"}, journal.ConsumeOptions{AckWait: time.Second}, 120)
	if len(all) != 120 {
		t.Fatalf("the replica got %d lines, want 120", len(all))
	}
}

// runUntil runs sink with opt until it holds n records.
func runUntil(t *testing.T, j *journal.Journal, c *collector, opt journal.ConsumeOptions, n int) []drainpipe.Record {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- j.Consume(ctx, c, opt) }()
	deadline := time.Now().Add(30 * time.Second)
	for len(c.records()) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if got := len(c.records()); got < n {
		t.Fatalf("sink %s got %d records, want %d", c.name, got, n)
	}
	return c.records()
}

// TestRetryOnAnotherNodeStoredOnce: logplex retries a batch (same Frame-Id) and the
// retry reaches another node, after the first try was stored, while it is being
// stored, and after a node stored it but died before answering: stored once.
func TestRetryOnAnotherNodeStoredOnce(t *testing.T) {
	t.Parallel()
	url, _ := natsServer(t, true)
	a := node(t, url, journal.Config{Partitions: 2})
	b := node(t, url, journal.Config{Partitions: 2})
	ctx := context.Background()
	if dup, err := a.Append(ctx, batch("d1", "frame-1", 5)); err != nil || dup {
		t.Fatalf("first try on a: dup=%v err=%v", dup, err)
	}
	if dup, err := b.Append(ctx, batch("d1", "frame-1", 5)); err != nil || !dup {
		t.Fatalf("retry on b: dup=%v err=%v, want a duplicate", dup, err)
	}
	// Concurrent tries on both nodes: one is stored.
	var wg sync.WaitGroup
	var dups atomic.Int32
	for i := range 8 {
		j := a
		if i%2 == 1 {
			j = b
		}
		wg.Go(func() {
			dup, err := j.Append(ctx, batch("d1", "frame-2", 5))
			if err != nil {
				t.Error(err)
			}
			if dup {
				dups.Add(1)
			}
		})
	}
	wg.Wait()
	if dups.Load() != 7 {
		t.Fatalf("%d of 8 concurrent tries were duplicates, want 7", dups.Load())
	}
	// A node that stored a batch and died before answering: the server keeps the
	// batch's Nats-Msg-Id, so the retry on another node is a duplicate.
	dead := node(t, url, journal.Config{})
	if _, err := dead.Append(ctx, batch("d2", "frame-3", 4)); err != nil {
		t.Fatal(err)
	}
	dead.Close()
	if dup, err := b.Append(ctx, batch("d2", "frame-3", 4)); err != nil || !dup {
		t.Fatalf("retry after the first node died: dup=%v err=%v", dup, err)
	}
	// A batch too big for one message is split; each piece has its own id, the
	// same on every node, so a retry elsewhere stores none of them again.
	big := batch("d3", "frame-4", 6)
	for i := range big.Records {
		big.Records[i].Message = strings.Repeat("x", 300<<10) + fmt.Sprint(i)
	}
	if dup, err := a.Append(ctx, big); err != nil || dup {
		t.Fatalf("big batch on a: dup=%v err=%v", dup, err)
	}
	if dup, err := b.Append(ctx, big); err != nil || !dup {
		t.Fatalf("big batch retried on b: dup=%v err=%v", dup, err)
	}
	replica := &collector{name: "archive-x"}
	recs := runUntil(t, b, replica, journal.ConsumeOptions{AckWait: time.Second}, 20)
	count := map[string]int{}
	for _, r := range recs {
		count[r.Drain+" "+r.Message]++
	}
	for k, n := range count {
		if n != 1 {
			t.Errorf("%q stored %d times", k, n)
		}
	}
	if len(recs) != 20 {
		t.Fatalf("stored %d lines, want 5+5+4+6", len(recs))
	}
}

// deferred is a sink that takes entries at once and calls them durable only when
// the test says so, as the metrics do when they publish.
type deferred struct {
	collector
	durable atomic.Uint64
}

func (d *deferred) Durable(string) uint64 { return d.durable.Load() }

// TestDeferredSinkAcknowledgedWhenDurable: entries a deferred sink took but did not
// make durable come again to the next consumer; durable ones do not.
func TestDeferredSinkAcknowledgedWhenDurable(t *testing.T) {
	t.Parallel()
	j := open(t, journal.Config{})
	ctx := context.Background()
	for i := range 6 {
		if _, err := j.Append(ctx, batch("d", fmt.Sprintf("k%d", i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	runDeferred(t, j, &deferred{collector: collector{name: "metrics"}}, 6, nil)
	// Nothing durable: a restart gets all six again.
	again := &deferred{collector: collector{name: "metrics"}}
	runDeferred(t, j, again, 6, func() { again.durable.Store(again.got[3].Seq) })
	// Four were made durable: the next run gets the last two.
	last := &deferred{collector: collector{name: "metrics"}}
	got := runDeferred(t, j, last, 2, nil)
	if len(got) != 2 || got[0].Message != "line 0 of k4 \x00 ünïcode" {
		t.Fatalf("after four durable entries the next run got %d: %+v", len(got), got)
	}
}

// TestSinkThatLostItsFilesTakesAgain: a sink of its own files (the archive) that
// holds less than its consumer acknowledged (its data directory lost, the node
// started again under its name) is given again what the journal still has; a
// sink without OwnFiles goes on from the consumer's place.
func TestSinkThatLostItsFilesTakesAgain(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	j := open(t, journal.Config{Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))})
	ctx := context.Background()
	for i := range 6 {
		if _, err := j.Append(ctx, batch("d", fmt.Sprintf("k%d", i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	own := journal.ConsumeOptions{OwnFiles: true}
	first := &deferred{collector: collector{name: "archive"}}
	runDeferredWith(t, j, first, own, 6, func() { first.durable.Store(first.got[5].Seq) })
	// The files are gone: the sink holds nothing, and gets all six again.
	lost := &deferred{collector: collector{name: "archive"}}
	runDeferredWith(t, j, lost, own, 6, func() { lost.durable.Store(lost.got[5].Seq) })
	mu.Lock()
	text := logs.String()
	mu.Unlock()
	if !strings.Contains(text, "the sink holds less than it had taken") || !strings.Contains(text, "acknowledged_up_to=") {
		t.Errorf("the journal did not say why the sink starts again:\n%s", text)
	}
	// Restored from a copy that held four: the last two come again.
	restored := &deferred{collector: collector{name: "archive"}}
	restored.durable.Store(lost.got[3].Seq)
	if got := runDeferredWith(t, j, restored, own, 2, nil); got[0].Message != "line 0 of k4 \x00 ünïcode" {
		t.Errorf("after a copy of four the sink got %+v", got)
	}
}

// runDeferred runs a deferred sink until it holds n records, calls then (if set)
// with the collector locked, waits a moment for the acknowledgement, and stops.
func runDeferred(t *testing.T, j *journal.Journal, d *deferred, n int, then func()) []drainpipe.Record {
	t.Helper()
	return runDeferredWith(t, j, d, journal.ConsumeOptions{}, n, then)
}

// runDeferredWith is runDeferred with opt.
func runDeferredWith(t *testing.T, j *journal.Journal, d *deferred, opt journal.ConsumeOptions, n int, then func()) []drainpipe.Record {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- j.Consume(ctx, d, opt) }()
	deadline := time.Now().Add(30 * time.Second)
	for len(d.records()) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if then != nil {
		d.mu.Lock()
		then()
		d.mu.Unlock()
	}
	cancel() // the consumer acknowledges what is durable as it stops
	<-done
	if len(d.records()) != n {
		t.Fatalf("got %d records, want %d", len(d.records()), n)
	}
	return d.records()
}

// members is a cluster as a test sets it.
type members struct {
	mu      sync.Mutex
	list    []journal.Member
	purging bool
}

func (m *members) Purging() bool { m.mu.Lock(); defer m.mu.Unlock(); return m.purging }
func (m *members) Members() []journal.Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.list)
}
func (m *members) set(purging bool, list ...journal.Member) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.purging, m.list = purging, list
}

// TestSharedPurgeAndTidy: on a shared journal, the node that purges keeps what a
// partition or a live node's replica has not delivered, waits for a restarting
// node's replica, and Tidy deletes the cursors of nodes gone for good only.
func TestSharedPurgeAndTidy(t *testing.T) {
	t.Parallel()
	url, _ := natsServer(t, true)
	m := &members{}
	m.set(true, journal.Member{Node: "a", Live: true, Replicas: []string{"archive"}, Shared: []string{"cloudwatch"}},
		journal.Member{Node: "b", Live: false, Replicas: []string{"archive"}})
	j := node(t, url, journal.Config{Partitions: 2, Members: m, PurgeInterval: 50 * time.Millisecond, DedupWindow: 100 * time.Millisecond})
	other := node(t, url, journal.Config{Partitions: 2})
	ctx := context.Background()
	// b's replica exists and has delivered nothing: it holds the journal.
	if err := other.Consume(cancelled(), &collector{name: "archive"}, journal.ConsumeOptions{Consumer: "archive-b"}); err == nil {
		t.Fatal("consume with a cancelled context returned nil")
	}
	for i := range 10 {
		if _, err := j.Append(ctx, batch(fmt.Sprintf("d%d", i), "k", 2)); err != nil {
			t.Fatal(err)
		}
	}
	runUntil(t, j, &collector{name: "archive"}, journal.ConsumeOptions{Consumer: "archive-a"}, 20)
	for p := range 2 {
		c := &collector{name: "cloudwatch"}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = j.Consume(ctx, c, journal.ConsumeOptions{Partitioned: true, Partition: p, AckWait: time.Second})
		cancel()
	}
	time.Sleep(300 * time.Millisecond) // several purge rounds: none may remove what b has not read
	if n := streamMsgs(t, url); n != 10 {
		t.Fatalf("journal holds %d messages while b's replica has read none, want 10", n)
	}
	// b is gone for good (Members no longer lists it): Tidy deletes its cursor, and
	// the purge then removes what everyone else delivered.
	m.set(true, journal.Member{Node: "a", Live: true, Replicas: []string{"archive"}, Shared: []string{"cloudwatch"}})
	start := time.Now()
	waitUntil(t, 10*time.Second, "the purge after b is gone", func() bool { return streamMsgs(t, url) == 0 })
	t.Logf("purged %v after b was gone", time.Since(start))
	names := consumerNames(t, url)
	if slices.Contains(names, "archive-b") || !slices.Contains(names, "archive-a") || !slices.Contains(names, "cloudwatch-p1") {
		t.Fatalf("consumers after tidy: %v", names)
	}
}

func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(500 * time.Millisecond); cancel() }()
	return ctx
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func streamInfo(t *testing.T, url string) (*jetstream.StreamInfo, jetstream.Stream) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	s, err := js.Stream(context.Background(), "DRAINPIPE_LOGS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info, s
}

func streamMsgs(t *testing.T, url string) uint64 {
	info, _ := streamInfo(t, url)
	return info.State.Msgs
}

func consumerNames(t *testing.T, url string) []string {
	_, s := streamInfo(t, url)
	var out []string
	names := s.ConsumerNames(context.Background())
	for n := range names.Name() {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// TestDurabilityWarnings: an external journal on one server that does not fsync
// every write is said to be unreplicated and unsynced; one that syncs is not.
func TestDurabilityWarnings(t *testing.T) {
	t.Parallel()
	for _, syncAlways := range []bool{false, true} {
		url, monitor := natsServer(t, syncAlways)
		var logs bytes.Buffer
		var mu sync.Mutex
		log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
		node(t, url, journal.Config{Logger: log, MonitorURLs: []string{monitor}})
		mu.Lock()
		text := logs.String()
		mu.Unlock()
		if !strings.Contains(text, "THE JOURNAL IS NOT REPLICATED") {
			t.Errorf("sync=%v: no warning about one replica:\n%s", syncAlways, text)
		}
		if got := strings.Contains(text, "DOES NOT FSYNC EVERY WRITE"); got == syncAlways {
			t.Errorf("sync=%v: fsync warning shown=%v:\n%s", syncAlways, got, text)
		}
	}
}

// TestSharedSettingsKept: a node started with other caps or replicas than the
// shared journal has keeps the journal's, says so, and still works; the other
// nodes' journal is not rewritten under them.
func TestSharedSettingsKept(t *testing.T) {
	t.Parallel()
	url, _ := natsServer(t, true)
	node(t, url, journal.Config{MaxBytes: 64 << 20, MaxAge: 2 * time.Hour})
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	// Three replicas cannot be made on one server: taking them would fail.
	other := node(t, url, journal.Config{MaxBytes: 1 << 30, MaxAge: time.Hour, Replicas: 3, Logger: log})
	info, _ := streamInfo(t, url)
	if c := info.Config; c.MaxBytes != 64<<20 || c.MaxAge != 2*time.Hour || c.Replicas != 1 {
		t.Errorf("the shared journal was rewritten: max bytes %d, max age %s, replicas %d", c.MaxBytes, c.MaxAge, c.Replicas)
	}
	if other.Replicas() != 1 {
		t.Errorf("the node uses %d replicas for its buckets, the journal has 1", other.Replicas())
	}
	mu.Lock()
	text := logs.String()
	mu.Unlock()
	for _, want := range []string{"keeps the replicas it has", "asked=3", "keeps the byte cap", "max_bytes=67108864", "keeps the age cap", "max_age=2h0m0s", "nats stream edit DRAINPIPE_LOGS"} {
		if !strings.Contains(text, want) {
			t.Errorf("the node's log does not say %q:\n%s", want, text)
		}
	}
	if _, err := other.Append(context.Background(), batch("d1", "frame-1", 1)); err != nil {
		t.Errorf("append through the node: %v", err)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestJournalGainsPartitions: a journal made before partitions (no partition
// count in its metadata, everything on drainpipe.logs) gets the partitions asked
// for; its sink's cursor becomes partition 0's and keeps its place, so what it had
// delivered is not delivered again and what it had not is.
func TestJournalGainsPartitions(t *testing.T) {
	t.Parallel()
	url, _ := natsServer(t, true)
	ctx := context.Background()
	old := node(t, url, journal.Config{})
	appendApps := func(j *journal.Journal, key string) {
		for i := range 5 {
			if _, err := j.Append(ctx, batch(fmt.Sprintf("d%d", i), key, 1)); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendApps(old, "before")
	runUntil(t, old, &collector{name: "cloudwatch"}, journal.ConsumeOptions{AckWait: time.Second}, 5)
	appendApps(old, "waiting")
	old.Close()
	_, s := streamInfo(t, url)
	cfg := s.CachedInfo().Config
	delete(cfg.Metadata, "drainpipe_partitions")
	nc, _ := nats.Connect(url)
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	j := node(t, url, journal.Config{Partitions: 4})
	if j.Partitions() != 4 {
		t.Fatalf("partitions = %d, want 4", j.Partitions())
	}
	appendApps(j, "after")
	var got []string
	for p := range 4 {
		n := 0
		for i := range 5 {
			if j.PartitionOf(fmt.Sprintf("app-d%d", i)) == p {
				n++
			}
		}
		if p == 0 {
			n += 5 // what partition 0's cursor had not delivered before
		}
		if n == 0 {
			continue
		}
		for _, r := range runUntil(t, j, &collector{name: "cloudwatch"}, journal.ConsumeOptions{Partitioned: true, Partition: p, AckWait: time.Second}, n) {
			got = append(got, r.Message)
		}
	}
	slices.Sort(got)
	if len(got) != 10 || strings.Contains(strings.Join(got, "|"), "of before") {
		t.Fatalf("delivered after gaining partitions: %q", got)
	}
}

// gated is a sink whose first Write waits until the test lets it go.
type gated struct {
	collector
	first   chan struct{} // closed when the first Write started
	release chan struct{}
	once    sync.Once
}

func (g *gated) Write(ctx context.Context, entries []drainpipe.Entry) error {
	g.once.Do(func() { close(g.first); <-g.release })
	return g.collector.Write(ctx, entries)
}

// TestLostDeliveryKeepsOrder: messages the server delivered but that never
// arrived (here: pulled to a subject nobody reads, as when a NATS server dies
// mid-answer) would come back after newer ones; the consumer starts over after
// its floor instead, so every entry arrives, in order.
func TestLostDeliveryKeepsOrder(t *testing.T) {
	t.Parallel()
	url, _ := natsServer(t, true)
	j := node(t, url, journal.Config{})
	ctx := context.Background()
	for i := range 10 {
		if _, err := j.Append(ctx, batch("d", fmt.Sprintf("k%d", i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// steal pulls two messages of consumer and drops them, unacknowledged.
	steal := func(consumer string) {
		inbox := nats.NewInbox()
		sub, err := nc.SubscribeSync(inbox)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		if err := nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.DRAINPIPE_LOGS."+consumer, inbox, []byte(`{"batch":2}`)); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := sub.NextMsg(10 * time.Second); err != nil {
				t.Fatalf("steal from %s: %v", consumer, err)
			}
		}
	}
	g := &gated{collector: collector{name: "archive"}, first: make(chan struct{}), release: make(chan struct{})}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- j.Consume(runCtx, g, journal.ConsumeOptions{MaxMessages: 2, AckWait: time.Second}) }()
	<-g.first
	steal("archive")
	close(g.release)
	waitUntil(t, 30*time.Second, "every entry", func() bool { return len(g.records()) >= 10 })
	cancel()
	<-done
	var last uint64
	for _, e := range g.got {
		if e.Seq <= last {
			t.Fatalf("entry %d after %d", e.Seq, last)
		}
		last = e.Seq
	}
	if len(g.records()) != 10 {
		t.Fatalf("got %d entries, want 10", len(g.records()))
	}
	// A deferred sink is told, to give up what it holds before starting over.
	d := &deferred{collector: collector{name: "metrics"}}
	for i := range 4 {
		if _, err := j.Append(ctx, batch("d", fmt.Sprintf("m%d", i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	go func() { done <- j.Consume(ctx, d, journal.ConsumeOptions{MaxMessages: 1}) }()
	waitUntil(t, 10*time.Second, "a first entry", func() bool { return len(d.records()) >= 1 })
	// Entries the consumer has not fetched yet are there to steal (it fetches one
	// at a time, paced near the end; on a loaded machine it had fetched every m
	// before the steal, which then waited for a redelivery), and more after them.
	for i := range 4 {
		if _, err := j.Append(ctx, batch("d", fmt.Sprintf("n%d", i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	steal("metrics")
	for i := range 4 {
		if _, err := j.Append(ctx, batch("d", fmt.Sprintf("p%d", i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		if !errors.Is(err, journal.ErrOutOfOrder) {
			t.Fatalf("deferred consume ended with %v, want ErrOutOfOrder", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the deferred consumer went on past lost deliveries")
	}
}

// TestReplicaWithByteCap: a node's replica consumer of a partitioned journal, with
// the archive's caps (many messages, a byte cap), gets every partition's entries in
// journal order.
func TestReplicaWithByteCap(t *testing.T) {
	t.Parallel()
	url, _ := natsServer(t, true)
	j := node(t, url, journal.Config{Partitions: 4})
	ctx := context.Background()
	var want []string
	for i := range 40 {
		b := batch(fmt.Sprintf("d%d", i%8), fmt.Sprintf("k%d", i), 3)
		if _, err := j.Append(ctx, b); err != nil {
			t.Fatal(err)
		}
		for _, r := range b.Records {
			want = append(want, r.Message)
		}
	}
	got := runUntil(t, j, &collector{name: "archive"}, journal.ConsumeOptions{Consumer: j.ReplicaConsumer("archive", "n1"),
		MaxMessages: 256, MaxBytes: 16 << 20, AckWait: 5 * time.Second}, 120)
	var msgs []string
	for _, r := range got {
		msgs = append(msgs, r.Message)
	}
	if !slices.Equal(msgs, want) {
		t.Fatalf("the replica got %d lines, out of order or not all: %v", len(msgs), msgs)
	}
}

// TestDeferredAcknowledgedSoonAtIdle: at idle, entries a deferred sink makes
// durable after its Write are acknowledged within its DurablePoll (the archive
// settles within a second, and its lag shows in drains list), not after the
// consumer's wait for new messages (2 s).
func TestDeferredAcknowledgedSoonAtIdle(t *testing.T) {
	t.Parallel()
	j := open(t, journal.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := j.Append(ctx, batch("d", "k", 1)); err != nil {
		t.Fatal(err)
	}
	d := &deferred{collector: collector{name: "archive"}}
	done := make(chan error, 1)
	go func() { done <- j.Consume(ctx, d, journal.ConsumeOptions{DurablePoll: 100 * time.Millisecond}) }()
	waitUntil(t, 30*time.Second, "entry delivered", func() bool { return len(d.records()) == 1 })
	d.mu.Lock()
	d.durable.Store(d.got[0].Seq)
	d.mu.Unlock()
	waitUntil(t, time.Second, "durable entry acknowledged", func() bool {
		st, err := j.SinkStatus(ctx, "archive")
		return err == nil && st.Lag == 0
	})
	cancel()
	<-done
}

// TestConnectErrorHidesCredentials: a NATS URL's user information (a password,
// or a token alone) never appears in the error of a failed connection.
func TestConnectErrorHidesCredentials(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = journal.Open(context.Background(), journal.Config{URL: "nats://user:hunter2pass@" + addr + ",nats://s3cr3ttoken@" + addr, Shared: true})
	if err == nil {
		t.Fatal("connected to nothing")
	}
	if msg := err.Error(); strings.Contains(msg, "hunter2pass") || strings.Contains(msg, "s3cr3ttoken") || strings.Contains(msg, "user:") {
		t.Errorf("the error holds the credentials: %s", msg)
	} else if !strings.Contains(msg, "nats://***@"+addr) {
		t.Errorf("the error does not name the server: %s", msg)
	}
}

// TestLostStream: a stream deleted under a node (its NATS servers lost their
// store), and then made again by another node, leaves the first node lost: Lost
// says why, and its appends are refused rather than go to a journal its sinks do
// not read, even once a stream of that name exists again.
func TestLostStream(t *testing.T) {
	t.Parallel()
	url, _ := natsServer(t, true)
	a := node(t, url, journal.Config{HealthInterval: 20 * time.Millisecond})
	ctx := context.Background()
	if _, err := a.Append(ctx, batch("d1", "before", 1)); err != nil {
		t.Fatal(err)
	}
	if a.Lost() != nil {
		t.Fatalf("lost before anything happened: %v", a.Lost())
	}
	_, s := streamInfo(t, url)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if err := js.DeleteStream(ctx, s.CachedInfo().Config.Name); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the node sees its journal lost", func() bool { return a.Lost() != nil })
	if msg := a.Lost().Error(); !strings.Contains(msg, "is gone from the NATS servers") {
		t.Errorf("Lost: %s", msg)
	}
	node(t, url, journal.Config{}) // another node, started again, makes a new journal
	if _, err := a.Append(ctx, batch("d1", "after", 1)); !errors.Is(err, drainpipe.ErrUnavailable) {
		t.Errorf("append to a lost journal: %v, want ErrUnavailable", err)
	}
	if n := streamMsgs(t, url); n != 0 {
		t.Errorf("the lost node wrote %d messages into the new journal", n)
	}
}
