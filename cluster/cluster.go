package cluster

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe/internal/bounded"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// The buckets, on the journal's engine.
const (
	nodesBucket  = "drainpipe_nodes"
	leasesBucket = "drainpipe_leases"
)

// nameRe is what a node name may hold: it becomes part of JetStream consumer names
// and key-value keys, where dots, wildcards and spaces are not allowed.
var nameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidName reports whether name may name a node.
func ValidName(name string) bool { return nameRe.MatchString(name) }

// Config says who this node is and how the cluster keeps time.
type Config struct {
	// JetStream is the engine the buckets live in: the journal's.
	JetStream jetstream.JetStream
	// Node is this node's name (ValidName).
	Node string
	// URL is where this node's HTTP API answers, for people and for other nodes.
	URL string
	// Version is the drainpipe version this node runs.
	Version string
	// Sinks are the sinks this node runs ("archive", "cloudwatch", "metrics"): a
	// group is shared among the live nodes that run it.
	Sinks []string
	// Replicas of the buckets (3 on a three-server cluster). Default 1.
	Replicas int
	// Heartbeat is how often the node writes its entry. Default 2 s; a node is live
	// while its entry is younger than three heartbeats.
	Heartbeat time.Duration
	// LeaseTTL is how long a lease lasts unless renewed. Default 10 s.
	LeaseTTL time.Duration
	// NodeTimeout is how long a node may stay silent before it is gone for good.
	// Default 15 minutes.
	NodeTimeout time.Duration
	// Report, when set, is called before every heartbeat; what it returns (as JSON)
	// travels in the node's entry, for other nodes to show (its sinks' last errors).
	Report func() any
	// WaitForName makes Join wait out, or refuse, a live node of the same name: set it
	// when other processes can reach the engine (an external NATS server). Without
	// it, the node is alone on its engine and takes back at once the leases an
	// earlier process of its name held.
	WaitForName bool
	// Logger receives the cluster's logs.
	Logger *slog.Logger
	// Registerer receives the cluster's metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() {
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 2 * time.Second
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 10 * time.Second
	}
	if c.NodeTimeout <= 0 {
		c.NodeTimeout = 15 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Node is one drainpipe process as the registry knows it.
type Node struct {
	Name    string    `json:"name"`
	Boot    string    `json:"boot"`
	URL     string    `json:"url,omitempty"`
	Version string    `json:"version,omitempty"`
	Sinks   []string  `json:"sinks,omitempty"`
	Started time.Time `json:"started"`
	// Stopped is set by a node that stopped cleanly.
	Stopped bool `json:"stopped,omitempty"`
	// Report is what Config.Report returned at the node's last heartbeat.
	Report json.RawMessage `json:"report,omitempty"`
	// Seen is when the node's entry was last written, on the NATS server's clock.
	Seen time.Time `json:"-"`
	// Live reports that the node heartbeats: not stopped, and seen within three
	// heartbeats.
	Live bool `json:"-"`
}

// Runs reports whether n runs the named sink.
func (n Node) Runs(sink string) bool { return slices.Contains(n.Sinks, sink) }

// Cluster is this node's membership of a cluster. Its methods are safe for
// concurrent use.
type Cluster struct {
	cfg     Config
	log     *slog.Logger
	self    Node
	nodes   jetstream.KeyValue
	leases  jetstream.KeyValue
	metrics *metrics

	mu       sync.Mutex
	registry map[string]Node      // by name, as last seen
	owners   map[string]leaseSeen // lease key → owner
	offset   time.Duration        // local clock minus the server's, from our own heartbeats
	wake     []chan struct{}      // managers to wake when a lease is given back

	stop     chan struct{}
	beating  sync.WaitGroup // the heartbeat
	watching sync.WaitGroup // the watches' followers
	watches  []jetstream.KeyWatcher
	left     sync.Once
}

// leaseSeen is a lease as the watch last saw it.
type leaseSeen struct {
	node    string
	boot    string
	written time.Time // server time
}

// Join registers this node and starts its heartbeat and the watches of the
// registry and the leases. Call Leave when the node stops.
func Join(ctx context.Context, cfg Config) (*Cluster, error) {
	cfg.setDefaults()
	if !ValidName(cfg.Node) {
		return nil, fmt.Errorf("node name %q: use 1 to 64 letters, digits, '-' or '_'", cfg.Node)
	}
	c := &Cluster{cfg: cfg, log: cfg.Logger, registry: map[string]Node{}, owners: map[string]leaseSeen{},
		stop: make(chan struct{})}
	c.self = Node{Name: cfg.Node, Boot: newBoot(), URL: cfg.URL, Version: cfg.Version,
		Sinks: slices.Clone(cfg.Sinks), Started: time.Now().UTC()}
	if err := c.buckets(ctx); err != nil {
		return nil, err
	}
	if cfg.WaitForName {
		if err := c.waitForName(ctx); err != nil {
			return nil, err
		}
	} else if err := c.takeBackLeases(ctx); err != nil {
		return nil, err
	}
	if err := c.beat(ctx); err != nil {
		return nil, fmt.Errorf("register node %s: %w", cfg.Node, err)
	}
	if err := c.startWatches(ctx); err != nil {
		c.stopWatches()
		return nil, err
	}
	c.metrics = newMetrics(cfg.Registerer, c)
	c.beating.Go(c.heartbeatLoop)
	return c, nil
}

func newBoot() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

func (c *Cluster) buckets(ctx context.Context) error {
	js := c.cfg.JetStream
	nodes, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: nodesBucket, Description: "drainpipe: the nodes of the cluster and their heartbeats",
		Storage: jetstream.FileStorage, Replicas: c.cfg.Replicas, History: 1,
	})
	if err != nil {
		return fmt.Errorf("nodes bucket: %w", err)
	}
	leases, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: leasesBucket, Description: "drainpipe: who owns which work (partitions of shared sinks, the purge)",
		Storage: jetstream.FileStorage, Replicas: c.cfg.Replicas, History: 1, TTL: c.cfg.LeaseTTL,
	})
	if err != nil {
		return fmt.Errorf("leases bucket: %w", err)
	}
	c.nodes, c.leases = nodes, leases
	return nil
}

// waitForName returns once no other live process holds this node's name: an
// entry of another boot that stays unchanged for three heartbeats belonged to a
// process that is gone (killed just before this one started).
func (c *Cluster) waitForName(ctx context.Context) error {
	first, err := c.nodes.Get(ctx, c.cfg.Node)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read node %s: %w", c.cfg.Node, err)
	}
	var n Node
	if json.Unmarshal(first.Value(), &n) != nil || n.Stopped {
		return nil
	}
	c.log.Info("waiting for the last process of this node's name to fall silent", "node", c.cfg.Node)
	wait := 3*c.cfg.Heartbeat + time.Second
	t := time.NewTimer(wait)
	defer t.Stop()
	tick := time.NewTicker(c.cfg.Heartbeat / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		case <-tick.C:
		}
		e, err := c.nodes.Get(ctx, c.cfg.Node)
		if err != nil {
			continue
		}
		if e.Revision() != first.Revision() {
			if json.Unmarshal(e.Value(), &n) == nil && n.Stopped {
				return nil
			}
			return fmt.Errorf("node name %s is in use by a live process (started %s, at %s): give this one another --node",
				c.cfg.Node, n.Started.Format(time.RFC3339), n.URL)
		}
	}
}

// takeBackLeases deletes the leases held under this node's name by an earlier
// process, for a node alone on its engine (embedded: no other process can reach
// it, so that process is gone), which would otherwise wait for them to expire.
func (c *Cluster) takeBackLeases(ctx context.Context) error {
	keys, err := c.leases.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("list leases: %w", err)
	}
	for key := range keys.Keys() {
		e, err := c.leases.Get(ctx, key)
		if err != nil {
			continue
		}
		var v leaseValue
		if json.Unmarshal(e.Value(), &v) == nil && v.Node == c.cfg.Node && v.Boot != c.self.Boot {
			if err := c.leases.Delete(ctx, key, jetstream.LastRevision(e.Revision())); err != nil {
				c.log.Debug("lease of an earlier process not deleted", "lease", key, "err", err)
			}
		}
	}
	return nil
}

// Self is this node's entry.
func (c *Cluster) Self() Node { return c.self }

// Nodes returns every node the registry knows, sorted by name.
func (c *Cluster) Nodes() []Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.serverNowLocked()
	out := make([]Node, 0, len(c.registry))
	for _, n := range c.registry {
		n.Live = !n.Stopped && now.Sub(n.Seen) < 3*c.cfg.Heartbeat
		if n.Name == c.self.Name && n.Boot == c.self.Boot {
			n.Live = true
		}
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b Node) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Gone reports whether n has been silent for longer than NodeTimeout.
func (c *Cluster) Gone(n Node) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !n.Live && c.serverNowLocked().Sub(n.Seen) > c.cfg.NodeTimeout
}

// serverNowLocked is the NATS server's time now, as far as this node can tell.
func (c *Cluster) serverNowLocked() time.Time { return time.Now().Add(-c.offset) }

// Leave stops the heartbeat, marks this node stopped in the registry and stops
// the watches. Stop every Share and Hold first: they give their leases back when
// their context ends. It returns when ctx ends even if NATS does not answer (a
// heartbeat in flight, a watch's stop wait on the client's own timeouts): the
// rest is left to finish, or not, as the process exits.
func (c *Cluster) Leave(ctx context.Context) error {
	err := bounded.Run(ctx, func() (err error) {
		c.left.Do(func() {
			close(c.stop)
			c.beating.Wait()
			self := c.self
			self.Stopped = true
			var b []byte
			if b, err = json.Marshal(self); err == nil {
				_, err = c.nodes.Put(ctx, c.cfg.Node, b)
			}
			c.stopWatches()
			c.watching.Wait()
			if err != nil {
				err = fmt.Errorf("mark node %s stopped: %w", c.cfg.Node, err)
			}
		})
		return err
	})
	if err != nil && err == ctx.Err() {
		return fmt.Errorf("leave the cluster: %w", err)
	}
	return err
}

// Forget deletes a node gone for good from the registry.
func (c *Cluster) Forget(ctx context.Context, name string) error {
	if err := c.nodes.Delete(ctx, name); err != nil {
		return fmt.Errorf("forget node %s: %w", name, err)
	}
	return nil
}
