package journal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/journal"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

func open(t testing.TB, cfg journal.Config) *journal.Journal {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	j, err := journal.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func batch(drain, key string, n int) *drainpipe.Batch {
	now := time.Now().UTC()
	b := &drainpipe.Batch{Drain: drain, App: "app-" + drain, Key: key, Received: now}
	for i := range n {
		b.Records = append(b.Records, drainpipe.Record{
			Drain: drain, App: "app-" + drain, Received: now,
			Time: now.Add(time.Duration(i) * time.Microsecond), Priority: 190, Host: "host",
			Source: "app", Dyno: "web.1", MsgID: "", StructuredData: `[x a="1"]`,
			Message: fmt.Sprintf("line %d of %s \x00 ünïcode", i, key), Malformed: i%7 == 3,
		})
	}
	return b
}

// collector is a sink that keeps what it is given, in order.
type collector struct {
	name string
	mu   sync.Mutex
	got  []drainpipe.Entry
	fail int // the next fail writes return an error
}

var _ drainpipe.Sink = (*collector)(nil)

func (c *collector) Name() string { return c.name }

func (c *collector) Write(ctx context.Context, entries []drainpipe.Entry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail > 0 {
		c.fail--
		return errors.New("injected failure")
	}
	c.got = append(c.got, entries...)
	return nil
}

func (c *collector) records() []drainpipe.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []drainpipe.Record
	for _, e := range c.got {
		for _, b := range e.Batches {
			out = append(out, b.Records...)
		}
	}
	return out
}

// keys is the set of the batch keys delivered so far.
func (c *collector) keys() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := map[string]bool{}
	for _, e := range c.got {
		for _, b := range e.Batches {
			keys[b.Key] = true
		}
	}
	return keys
}

// consumeUntil runs the sink until it holds n records or the test times out.
func consumeUntil(t *testing.T, j *journal.Journal, c *collector, n int) []drainpipe.Record {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- j.Consume(ctx, c, journal.ConsumeOptions{AckWait: time.Second}) }()
	deadline := time.Now().Add(30 * time.Second)
	for len(c.records()) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	got := c.records()
	if len(got) < n {
		t.Fatalf("sink got %d records, want %d", len(got), n)
	}
	return got
}

func TestAppendConsumeRoundTrip(t *testing.T) {
	t.Parallel()
	j := open(t, journal.Config{})
	ctx := context.Background()
	var want []drainpipe.Record
	for i := range 20 {
		b := batch("d1", fmt.Sprintf("k%d", i), i+1)
		if dup, err := j.Append(ctx, b); err != nil || dup {
			t.Fatalf("append %d: dup=%v err=%v", i, dup, err)
		}
		want = append(want, b.Records...)
	}
	c := &collector{name: "test", fail: 2}
	got := consumeUntil(t, j, c, len(want))
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !equalRecord(got[i], want[i]) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	var last uint64
	for _, e := range c.got {
		if e.Seq <= last {
			t.Fatalf("entry seq %d after %d: not in journal order", e.Seq, last)
		}
		last = e.Seq
	}
}

func equalRecord(a, b drainpipe.Record) bool {
	return a.Drain == b.Drain && a.App == b.App && a.Time.Equal(b.Time) && a.Received.Equal(b.Received) &&
		a.Priority == b.Priority && a.Host == b.Host && a.Source == b.Source && a.Dyno == b.Dyno &&
		a.MsgID == b.MsgID && a.StructuredData == b.StructuredData && a.Message == b.Message && a.Malformed == b.Malformed
}

func TestConcurrentAppendsAreGroupCommitted(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	j := open(t, journal.Config{Registerer: reg})
	var wg sync.WaitGroup
	const senders, each = 16, 20
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := j.Append(context.Background(), batch("d", fmt.Sprintf("%d-%d", s, i), 10)); err != nil {
					t.Errorf("append: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	lines := counterValue(t, reg, "drainpipe_journal_appended_lines_total")
	if lines != senders*each*10 {
		t.Fatalf("appended lines = %v, want %d", lines, senders*each*10)
	}
	got := consumeUntil(t, j, &collector{name: "all"}, senders*each*10)
	if len(got) != senders*each*10 {
		t.Fatalf("consumed %d, want %d", len(got), senders*each*10)
	}
}

func counterValue(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			var sum float64
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
			return sum
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

func TestRetriedBatchStoredOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := open(t, journal.Config{Dir: dir})
	ctx := context.Background()
	if dup, err := j.Append(ctx, batch("d1", "frame-1", 3)); err != nil || dup {
		t.Fatalf("first append: dup=%v err=%v", dup, err)
	}
	if dup, err := j.Append(ctx, batch("d1", "frame-1", 3)); err != nil || !dup {
		t.Fatalf("retry: dup=%v err=%v, want duplicate", dup, err)
	}
	// The same key on another drain is another batch.
	if dup, err := j.Append(ctx, batch("d2", "frame-1", 3)); err != nil || dup {
		t.Fatalf("other drain: dup=%v err=%v", dup, err)
	}
	// A batch without a key is never taken for a retry.
	for range 2 {
		if dup, err := j.Append(ctx, batch("d1", "", 1)); err != nil || dup {
			t.Fatalf("keyless: dup=%v err=%v", dup, err)
		}
	}
	j.Close()

	// After a restart (a crash between commit and 2xx, say) the retry is still known.
	j2 := open(t, journal.Config{Dir: dir})
	if dup, err := j2.Append(ctx, batch("d1", "frame-1", 3)); err != nil || !dup {
		t.Fatalf("retry after restart: dup=%v err=%v, want duplicate", dup, err)
	}
	got := consumeUntil(t, j2, &collector{name: "s"}, 8)
	if len(got) != 8 {
		t.Fatalf("stored %d records, want 8", len(got))
	}
}

func TestConcurrentRetriesStoredOnce(t *testing.T) {
	t.Parallel()
	j := open(t, journal.Config{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	dups := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dup, err := j.Append(context.Background(), batch("d", "same", 5))
			if err != nil {
				t.Errorf("append: %v", err)
			}
			mu.Lock()
			if dup {
				dups++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if dups != 7 {
		t.Fatalf("duplicates = %d, want 7", dups)
	}
}

func TestDedupWindowExpires(t *testing.T) {
	t.Parallel()
	j := open(t, journal.Config{DedupWindow: 50 * time.Millisecond})
	ctx := context.Background()
	if _, err := j.Append(ctx, batch("d", "k", 1)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if dup, err := j.Append(ctx, batch("d", "k", 1)); err != nil || dup {
		t.Fatalf("after the window: dup=%v err=%v, want stored again", dup, err)
	}
}

func TestFullJournalRefusesAppends(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	j := open(t, journal.Config{MaxBytes: 64 << 10, Registerer: reg})
	ctx := context.Background()
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = j.Append(ctx, batch("d", "", 50))
	}
	if !errors.Is(err, drainpipe.ErrJournalFull) {
		t.Fatalf("err = %v, want ErrJournalFull", err)
	}
	if n := counterValue(t, reg, "drainpipe_journal_full_total"); n < 1 {
		t.Fatalf("drainpipe_journal_full_total = %v, want ≥ 1", n)
	}
}

func TestDeliveredMessagesArePurged(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	j := open(t, journal.Config{DedupWindow: time.Millisecond, PurgeInterval: 20 * time.Millisecond, Registerer: reg})
	ctx := context.Background()
	for range 5 {
		if _, err := j.Append(ctx, batch("d", "", 10)); err != nil {
			t.Fatal(err)
		}
	}
	consumeUntil(t, j, &collector{name: "s"}, 50)
	deadline := time.Now().Add(10 * time.Second)
	for counterValue(t, reg, "drainpipe_journal_messages") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("journal still holds %v messages after every sink delivered them",
				counterValue(t, reg, "drainpipe_journal_messages"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestConsumerResumesAfterRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := open(t, journal.Config{Dir: dir})
	ctx := context.Background()
	for i := range 3 {
		if _, err := j.Append(ctx, batch("d", fmt.Sprint(i), 2)); err != nil {
			t.Fatal(err)
		}
	}
	first := consumeUntil(t, j, &collector{name: "s"}, 6)
	j.Close()

	j2 := open(t, journal.Config{Dir: dir})
	if _, err := j2.Append(ctx, batch("d", "after", 2)); err != nil {
		t.Fatal(err)
	}
	c := &collector{name: "s"}
	got := consumeUntil(t, j2, c, 2)
	if len(first) != 6 || len(got) != 2 || !strings.HasSuffix(got[0].Message, "after") && !strings.Contains(got[0].Message, "after") {
		t.Fatalf("after restart got %d records (%q...), want only the 2 new ones", len(got), got[0].Message)
	}
}

func TestLargeBatchIsSplitAcrossMessages(t *testing.T) {
	t.Parallel()
	j := open(t, journal.Config{})
	b := batch("d", "big", 0)
	line := strings.Repeat("x", 10_000)
	for i := range 1500 { // 15 MB: more than one journal message holds
		b.Records = append(b.Records, drainpipe.Record{Time: b.Received, Received: b.Received, Message: fmt.Sprint(i, line)})
	}
	if _, err := j.Append(context.Background(), b); err != nil {
		t.Fatalf("append: %v", err)
	}
	got := consumeUntil(t, j, &collector{name: "s"}, 1500)
	for i, r := range got {
		if !strings.HasPrefix(r.Message, fmt.Sprint(i, "x")) {
			t.Fatalf("record %d out of order: %.20q", i, r.Message)
		}
	}
}

// TestUnconfiguredSinkCursorIsDeleted: at start the cursor of a sink no longer
// configured is deleted, with a warning; an ephemeral consumer an earlier process
// left (a reader killed with it) is deleted too, without one.
func TestUnconfiguredSinkCursorIsDeleted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := open(t, journal.Config{Dir: dir})
	if _, err := j.Append(context.Background(), batch("d", "", 1)); err != nil {
		t.Fatal(err)
	}
	consumeUntil(t, j, &collector{name: "old"}, 1)
	consumeUntil(t, j, &collector{name: "kept"}, 1)
	eph, err := j.JetStream().CreateConsumer(context.Background(), "DRAINPIPE_LOGS", jetstream.ConsumerConfig{InactiveThreshold: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ephemeral := eph.CachedInfo().Name
	j.Close()
	var logs bytes.Buffer
	var mu sync.Mutex
	j2 := open(t, journal.Config{Dir: dir, Sinks: []string{"kept"}, Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))})
	if _, err := j2.JetStream().Consumer(context.Background(), "DRAINPIPE_LOGS", ephemeral); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Errorf("the ephemeral consumer is still there: %v", err)
	}
	mu.Lock()
	text := logs.String()
	mu.Unlock()
	if strings.Contains(text, "sink="+ephemeral) || !strings.Contains(text, "sink=old") {
		t.Errorf("want a warning for the sink's cursor only:\n%s", text)
	}
	// The deleted cursor starts over: it sees the message again; the kept one does not.
	if _, err := j2.Append(context.Background(), batch("d", "", 1)); err != nil {
		t.Fatal(err)
	}
	if got := consumeUntil(t, j2, &collector{name: "old"}, 2); len(got) != 2 {
		t.Fatalf("recreated cursor got %d, want 2", len(got))
	}
}

// TestJournalIdentity: a journal keeps its identity across restarts and gets a new
// one when its directory is lost, and every delivered entry carries it, so sinks can
// tell restarted sequence numbers from entries they already applied.
func TestJournalIdentity(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j1, err := journal.Open(context.Background(), journal.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	first := j1.ID()
	if len(first) != 32 {
		t.Fatalf("identity %q: want 32 hex digits", first)
	}
	if _, err := j1.Append(context.Background(), batch("d1", "", 2)); err != nil {
		t.Fatal(err)
	}
	j1.Close()

	j2 := open(t, journal.Config{Dir: dir})
	if j2.ID() != first {
		t.Fatalf("identity after restart %q, want %q", j2.ID(), first)
	}
	c := &collector{name: "test"}
	consumeUntil(t, j2, c, 2)
	for _, e := range c.got {
		if e.Journal != first {
			t.Fatalf("entry %d carries journal %q, want %q", e.Seq, e.Journal, first)
		}
	}

	lost := open(t, journal.Config{Dir: t.TempDir()})
	if lost.ID() == first || lost.ID() == "" {
		t.Fatalf("a new journal has identity %q (old %q): want a new one", lost.ID(), first)
	}
}
