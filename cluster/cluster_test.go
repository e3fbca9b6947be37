package cluster_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/cluster"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// engine starts an embedded JetStream server for the test.
func engine(t *testing.T) *server.Server {
	t.Helper()
	return startEngine(t, &server.Options{DontListen: true})
}

// startEngine starts a JetStream server with opts (where it listens) for the test.
func startEngine(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	opts.JetStream, opts.StoreDir, opts.NoSigs, opts.NoLog = true, t.TempDir(), true, true
	srv, err := server.NewServer(opts)
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

// node is one cluster member with its own connection, which a test may cut to
// make the node fall silent as a killed process would.
type node struct {
	c  *cluster.Cluster
	nc *nats.Conn
}

var fast = cluster.Config{Heartbeat: 100 * time.Millisecond, LeaseTTL: time.Second, NodeTimeout: time.Second}

func join(t *testing.T, srv *server.Server, name string, cfg cluster.Config) *node {
	t.Helper()
	nc, err := nats.Connect("", nats.InProcessServer(srv))
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cfg.JetStream, cfg.Node = js, name
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := cluster.Join(ctx, cfg)
	if err != nil {
		nc.Close()
		t.Fatalf("join %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = c.Leave(ctx)
		nc.Close()
	})
	return &node{c: c, nc: nc}
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestValidName(t *testing.T) {
	for name, ok := range map[string]bool{"web-1": true, "ip_10_0_0_1": true, "": false, "a.b": false,
		"a b": false, "a*": false, "a>": false, string(make([]byte, 65)): false} {
		if got := cluster.ValidName(name); got != ok {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, ok)
		}
	}
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	srv := engine(t)
	cfg := fast
	cfg.Sinks = []string{"archive", "cloudwatch"}
	a := join(t, srv, "a", cfg)
	b := join(t, srv, "b", cfg)
	live := func(c *cluster.Cluster, name string) bool {
		for _, n := range c.Nodes() {
			if n.Name == name {
				return n.Live
			}
		}
		return false
	}
	waitFor(t, 5*time.Second, "a sees b live", func() bool { return live(a.c, "b") && live(b.c, "a") })
	for _, n := range a.c.Nodes() {
		if !n.Runs("cloudwatch") || n.Runs("metrics") {
			t.Errorf("node %s runs %v, want archive and cloudwatch", n.Name, n.Sinks)
		}
	}
	if err := b.c.Leave(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "a sees b stopped", func() bool { return !live(a.c, "b") })
	// A silent node (its connection cut, as a killed process) drops out after three
	// heartbeats, and is gone for good after NodeTimeout: Sweep cleans up after it.
	c := join(t, srv, "c", cfg)
	waitFor(t, 5*time.Second, "a sees c live", func() bool { return live(a.c, "c") })
	c.nc.Close()
	waitFor(t, 5*time.Second, "a sees c silent", func() bool { return !live(a.c, "c") })
	var cleaned sync.Map
	waitFor(t, 10*time.Second, "c and b swept", func() bool {
		_ = a.c.Sweep(context.Background(), func(_ context.Context, n cluster.Node) error {
			cleaned.Store(n.Name, true)
			return nil
		})
		_, bOK := cleaned.Load("b")
		_, cOK := cleaned.Load("c")
		return bOK && cOK
	})
	if _, ok := cleaned.Load("a"); ok {
		t.Fatal("the live node was swept")
	}
	waitFor(t, 5*time.Second, "swept nodes forgotten", func() bool { return len(a.c.Nodes()) == 1 })
}

// TestNameInUse: a second live process with a node's name is refused; a process
// that restarts after its predecessor was killed waits for it to fall silent.
func TestNameInUse(t *testing.T) {
	t.Parallel()
	srv := engine(t)
	cfg := fast
	cfg.WaitForName = true
	first := join(t, srv, "web", cfg)
	nc, _ := nats.Connect("", nats.InProcessServer(srv))
	defer nc.Close()
	js, _ := jetstream.New(nc)
	second := cfg
	second.JetStream, second.Node = js, "web"
	if _, err := cluster.Join(context.Background(), second); err == nil {
		t.Fatal("a second live node of the same name joined")
	}
	first.nc.Close() // killed: it never says it stopped
	start := time.Now()
	c, err := cluster.Join(context.Background(), second)
	if err != nil {
		t.Fatalf("restart after a kill: %v", err)
	}
	defer c.Leave(context.Background())
	if waited := time.Since(start); waited < 2*cfg.Heartbeat {
		t.Fatalf("joined after %v, want a wait for the killed process to fall silent", waited)
	}
}

// parts tracks which node runs which part, and fails on two at once.
type parts struct {
	t       *testing.T
	mu      sync.Mutex
	running map[int]string
	overlap atomic.Int32
	starts  atomic.Int32
}

func (p *parts) run(name string) func(ctx context.Context, part int) {
	return func(ctx context.Context, part int) {
		p.mu.Lock()
		if other, ok := p.running[part]; ok {
			p.t.Errorf("part %d runs on %s and %s at once", part, other, name)
			p.overlap.Add(1)
		}
		p.running[part] = name
		p.mu.Unlock()
		p.starts.Add(1)
		<-ctx.Done()
		p.mu.Lock()
		delete(p.running, part)
		p.mu.Unlock()
	}
}

func (p *parts) owners() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for _, n := range p.running {
		out[n]++
	}
	return out
}

func (p *parts) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.running)
}

// TestShare: 16 parts spread over three nodes, one node per part at a time,
// through a node joining, one leaving cleanly and one killed.
func TestShare(t *testing.T) {
	t.Parallel()
	srv := engine(t)
	cfg := fast
	cfg.Sinks = []string{"cloudwatch"}
	p := &parts{t: t, running: map[int]string{}}
	share := func(n *node, name string) context.CancelFunc {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { n.c.Share(ctx, "cloudwatch", 16, p.run(name)); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		return func() { cancel(); <-done }
	}
	nodes := map[string]*node{}
	for _, name := range []string{"a", "b"} {
		nodes[name] = join(t, srv, name, cfg)
		share(nodes[name], name)
	}
	waitFor(t, 10*time.Second, "16 parts over a and b, 8 each", func() bool {
		o := p.owners()
		return p.count() == 16 && o["a"] == 8 && o["b"] == 8
	})
	nodes["c"] = join(t, srv, "c", cfg)
	stopC := share(nodes["c"], "c")
	waitFor(t, 10*time.Second, "16 parts over three nodes, at most 6 each", func() bool {
		o := p.owners()
		return p.count() == 16 && o["a"] <= 6 && o["b"] <= 6 && o["c"] <= 6
	})
	// c leaves cleanly: its parts move at once, not after a lease's lifetime.
	stopC()
	_ = nodes["c"].c.Leave(context.Background())
	start := time.Now()
	waitFor(t, 10*time.Second, "parts back on a and b", func() bool { return p.count() == 16 && p.owners()["c"] == 0 })
	if d := time.Since(start); d > cfg.LeaseTTL {
		t.Errorf("a clean handover took %v, longer than a lease", d)
	}
	// b is killed: its work stops (it can no longer renew) before the others take over.
	nodes["b"].nc.Close()
	waitFor(t, 15*time.Second, "all 16 parts on a", func() bool { return p.count() == 16 && p.owners()["a"] == 16 })
	if p.overlap.Load() != 0 {
		t.Fatalf("%d parts ran on two nodes at once", p.overlap.Load())
	}
}

// TestHold: one holder at a time; a holder that stops hands over at once.
func TestHold(t *testing.T) {
	t.Parallel()
	srv := engine(t)
	var mu sync.Mutex
	holder := ""
	var overlap atomic.Bool
	stops := map[string]func(){}
	for _, name := range []string{"a", "b", "c"} {
		n := join(t, srv, name, fast)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			n.c.Hold(ctx, "purge", func(ctx context.Context) {
				mu.Lock()
				if holder != "" {
					overlap.Store(true)
				}
				holder = name
				mu.Unlock()
				<-ctx.Done()
				mu.Lock()
				holder = ""
				mu.Unlock()
			})
			close(done)
		}()
		stops[name] = sync.OnceFunc(func() { cancel(); <-done })
		t.Cleanup(stops[name])
	}
	current := func() string {
		mu.Lock()
		defer mu.Unlock()
		return holder
	}
	waitFor(t, 10*time.Second, "one holder", func() bool { return current() != "" })
	for range 2 {
		old := current()
		start := time.Now()
		stops[old]()
		waitFor(t, 10*time.Second, "another holder", func() bool { h := current(); return h != "" && h != old })
		if d := time.Since(start); d > fast.LeaseTTL {
			t.Errorf("handover after a clean stop took %v, longer than a lease", d)
		}
	}
	if overlap.Load() {
		t.Fatal("two holders at once")
	}
}

// TestAloneTakesBackLeases: a node alone on its engine (embedded) that restarts
// after a crash takes back its earlier process's leases at once, instead of
// waiting for them to expire.
func TestAloneTakesBackLeases(t *testing.T) {
	t.Parallel()
	srv := engine(t)
	cfg := fast
	cfg.LeaseTTL = 30 * time.Second
	first := join(t, srv, "solo", cfg)
	held := make(chan struct{}, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go first.c.Hold(ctx, "purge", func(ctx context.Context) { held <- struct{}{}; <-ctx.Done() })
	<-held
	first.nc.Close() // crashed: the lease stays, for 30 s
	again := join(t, srv, "solo", cfg)
	start := time.Now()
	go again.c.Hold(ctx, "purge", func(ctx context.Context) { held <- struct{}{}; <-ctx.Done() })
	select {
	case <-held:
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took the lease back after %v", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the restarted node waits for its own lease to expire")
	}
}
