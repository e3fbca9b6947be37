package archive_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/prometheus/client_golang/prometheus"
)

// received is a recent time: lines far in the past are past the retention.
var received = time.Now().UTC().Truncate(time.Second).Add(-time.Hour)

// testJournal is the journal identity the tests' entries come from.
const testJournal = "j-test"

// open opens an archive in a fresh directory with background retention off,
// and closes it when the test ends.
func open(t testing.TB, cfg archive.Config) *archive.Archive {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(t.TempDir(), "archive")
	}
	if cfg.PruneInterval == 0 {
		cfg.PruneInterval = -1
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	a, err := archive.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return a
}

// entry wraps records into one journal entry of one batch.
func entry(seq uint64, recs ...drainpipe.Record) drainpipe.Entry {
	return drainpipe.Entry{Journal: testJournal, Seq: seq, Batches: []drainpipe.Batch{{Records: recs}}}
}

// write stores entries or fails the test.
func write(t testing.TB, a *archive.Archive, entries ...drainpipe.Entry) {
	t.Helper()
	if err := a.Write(context.Background(), entries); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// waitDurable waits until the archive says testJournal's entries are durable
// through seq: at most archive.SettleEvery after the Write, plus a barrier.
func waitDurable(t testing.TB, a *archive.Archive, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(archive.SettleEvery + 10*time.Second)
	for a.Durable(testJournal) < seq {
		if time.Now().After(deadline) {
			t.Fatalf("entries durable through %d, want %d", a.Durable(testJournal), seq)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// seqLines returns n lines of app numbered in their message.
func seqLines(app string, at time.Time, n int) []drainpipe.Record {
	recs := make([]drainpipe.Record, n)
	for i := range recs {
		recs[i] = drainpipe.Record{App: app, Drain: "d_" + app, Time: at.Add(time.Duration(i) * time.Millisecond), Received: at,
			Priority: 190, Source: "app", Dyno: "web.1", Message: fmt.Sprintf("line %d of %s", i, app)}
	}
	return recs
}

// lineGen makes realistic Heroku lines: router lines (about 250 bytes, a
// fresh request id and client address each) and app lines, in the mix a
// busy web app sends.
type lineGen struct {
	rng  *rand.Rand
	now  time.Time
	step time.Duration
}

func newLineGen(seed uint64, start time.Time) *lineGen {
	return &lineGen{rng: rand.New(rand.NewPCG(seed, seed)), now: start, step: 50 * time.Microsecond}
}

var (
	paths    = []string{"/", "/api/v1/orders", "/assets/app-62f13e9f.css", "/login", "/api/v1/users/42/cart", "/healthz", "/search"}
	methods  = []string{"GET", "GET", "GET", "POST", "PUT"}
	appLines = []string{
		`Started GET "/api/v1/orders" for 10.1.2.3 at 2024-04-26 16:58:32 +0000`,
		`Completed 200 OK in 23ms (Views: 1.2ms | ActiveRecord: 12.9ms | Allocations: 4512)`,
		`[GIN] 2024/04/26 - 16:58:32 | 200 |    1.270402ms |  138.68.186.89 | GET      "/api/v1/orders"`,
		`{"level":"info","ts":1714150712.94,"msg":"order created","order_id":91823,"user":"u_4815","latency_ms":41}`,
		`measure#db.query=12ms count#orders.created=1 sample#queue.depth=42`,
		`Error R14 (Memory quota exceeded)`,
		`State changed from starting to up`,
	}
)

func (g *lineGen) uuid() string {
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", g.rng.Uint32(), g.rng.Uint32()&0xffff,
		g.rng.Uint32()&0xffff, g.rng.Uint32()&0xffff, g.rng.Uint64()&0xffffffffffff)
}

// record returns the next line of app.
func (g *lineGen) record(app string) drainpipe.Record {
	g.now = g.now.Add(g.step)
	r := drainpipe.Record{Drain: "d_" + app, App: app, Time: g.now, Received: g.now.Add(time.Second), Host: "host"}
	switch n := g.rng.IntN(10); {
	case n < 7:
		status, code := 200, ""
		if n == 0 && g.rng.IntN(20) == 0 {
			status, code = 503, `code=H12 desc="Request timeout" `
		}
		r.Priority, r.Source, r.Dyno = 158, "heroku", "router"
		r.Message = fmt.Sprintf(`at=info %smethod=%s path="%s" host=%s.herokuapp.com request_id=%s fwd="%d.%d.%d.%d" dyno=web.%d connect=%dms service=%dms status=%d bytes=%d protocol=https`,
			code, methods[g.rng.IntN(len(methods))], paths[g.rng.IntN(len(paths))], app, g.uuid(),
			g.rng.IntN(256), g.rng.IntN(256), g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(4),
			g.rng.IntN(3), g.rng.IntN(300), status, g.rng.IntN(100000))
	default:
		r.Priority, r.Source, r.Dyno = 190, "app", fmt.Sprintf("web.%d", 1+g.rng.IntN(4))
		r.Message = appLines[g.rng.IntN(len(appLines))]
	}
	return r
}

// entries returns n entries of batches of size lines each, seq from first.
func (g *lineGen) entries(app string, first uint64, n, size int) []drainpipe.Entry {
	out := make([]drainpipe.Entry, n)
	for i := range out {
		recs := make([]drainpipe.Record, size)
		for j := range recs {
			recs[j] = g.record(app)
		}
		out[i] = drainpipe.Entry{Journal: testJournal, Seq: first + uint64(i), Batches: []drainpipe.Batch{
			{Drain: "d_" + app, App: app, Received: g.now, Records: recs},
		}}
	}
	return out
}

// mustWrite writes a file, creating its directory.
func mustWrite(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// metricValue returns a counter's or gauge's value summed over its labels,
// or a histogram's observation count.
func metricValue(t testing.TB, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var v float64
		for _, m := range mf.GetMetric() {
			switch {
			case m.Counter != nil:
				v += m.Counter.GetValue()
			case m.Gauge != nil:
				v += m.Gauge.GetValue()
			case m.Histogram != nil:
				v += float64(m.Histogram.GetSampleCount())
			}
		}
		return v
	}
	t.Fatalf("no metric %s", name)
	return 0
}
