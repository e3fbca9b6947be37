package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/drainpipe/drainpipe/cluster"
	"github.com/drainpipe/drainpipe/journal"
	"github.com/prometheus/client_golang/prometheus"
)

// The archive is the one sink every node keeps whole (its own replica, through
// its own consumer); the others share the journal's partitions.
const archiveSink = "archive"

// clusterFlags are the flags of `drainpipe serve` that place a node in a cluster.
type clusterFlags struct {
	node        *string
	partitions  *int
	replicas    *int
	monitor     *string
	nodeTimeout *time.Duration
}

func addClusterFlags(f *flags) clusterFlags {
	return clusterFlags{
		node:        f.string("node", "", "this node's name in a cluster: letters, digits, '-', '_' (default: the host name)"),
		partitions:  f.int("partitions", 0, "partitions of a new journal, over which the CloudWatch and metrics work is spread (default 16 with --nats, 1 embedded)"),
		replicas:    f.int("nats-replicas", 0, "replicas of the journal and the buckets on an external NATS (default 3 on a cluster, 1 on a single server)"),
		monitor:     f.string("nats-monitor", "", "the NATS servers' monitoring URLs, comma-separated (http://nats-a:8222,...), to check at start that they fsync every write"),
		nodeTimeout: f.duration("node-timeout", 15*time.Minute, "a node silent for this long is gone for good: its archive's journal cursor is deleted"),
	}
}

// clusterConfig is what the cluster flags say.
type clusterConfig struct {
	node        string
	partitions  int
	replicas    int
	monitor     []string
	nodeTimeout time.Duration
}

func (f clusterFlags) config(natsURL string) (clusterConfig, error) {
	c := clusterConfig{node: *f.node, partitions: *f.partitions, replicas: *f.replicas, nodeTimeout: *f.nodeTimeout}
	if c.node == "" {
		c.node = defaultNodeName()
	}
	if !cluster.ValidName(c.node) {
		return c, usagef("--node %q: use 1 to 64 letters, digits, '-' or '_'", c.node)
	}
	if c.partitions == 0 {
		c.partitions = 1
		if natsURL != "" {
			c.partitions = 16
		}
	}
	if c.partitions < 1 || c.partitions > 256 {
		return c, usagef("--partitions: want 1 to 256, not %d", c.partitions)
	}
	if c.replicas < 0 || c.replicas > 5 {
		return c, usagef("--nats-replicas: want 1 to 5, not %d", c.replicas)
	}
	for _, u := range strings.Split(*f.monitor, ",") {
		if u = strings.TrimSpace(u); u != "" {
			c.monitor = append(c.monitor, u)
		}
	}
	if c.nodeTimeout < time.Minute {
		return c, usagef("--node-timeout: want at least 1m, not %v", c.nodeTimeout)
	}
	return c, nil
}

// defaultNodeName is the host's name up to its first dot, with what a node name
// may not hold turned into '-'.
func defaultNodeName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "drainpipe"
	}
	h, _, _ = strings.Cut(h, ".")
	b := []byte(h)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '-'
		}
	}
	return string(b[:min(len(b), 64)])
}

// members tells the journal who uses it, from the cluster's registry; it purges
// while this node holds the purge lease.
type members struct {
	// shared: other nodes use the journal. A node alone on its journal (embedded)
	// is its only member, whatever its registry remembers of earlier host names.
	shared  bool
	cl      atomic.Pointer[cluster.Cluster]
	purging atomic.Bool
}

var _ journal.Members = (*members)(nil)

func (m *members) Purging() bool { return m.purging.Load() }

func (m *members) Members() []journal.Member {
	cl := m.cl.Load()
	if cl == nil {
		return nil
	}
	var out []journal.Member
	for _, n := range cl.Nodes() {
		if cl.Gone(n) || !m.shared && n.Name != cl.Self().Name {
			continue
		}
		mb := journal.Member{Node: n.Name, Live: n.Live}
		for _, s := range n.Sinks {
			if s == archiveSink {
				mb.Replicas = append(mb.Replicas, s)
			} else {
				mb.Shared = append(mb.Shared, s)
			}
		}
		out = append(out, mb)
	}
	return out
}

// joinCluster registers this node, running sinks, with the cluster of the
// journal's engine, and lets the journal's purge know the cluster.
func joinCluster(ctx context.Context, c serveConfig, j *journal.Journal, m *members, sinks []string, report func() any,
	log *slog.Logger, reg prometheus.Registerer) (*cluster.Cluster, error) {
	cl, err := cluster.Join(ctx, cluster.Config{
		JetStream: j.JetStream(), Node: c.cluster.node, URL: derivePublicURL(c.listen), Version: version(),
		Sinks: sinks, Replicas: j.Replicas(), NodeTimeout: c.cluster.nodeTimeout, WaitForName: c.natsURL != "",
		Report: report, Logger: log, Registerer: reg,
	})
	if err != nil {
		return nil, fmt.Errorf("join the cluster: %w", err)
	}
	m.cl.Store(cl)
	log.Info("node joined", "node", c.cluster.node, "sinks", sinks, "partitions", j.Partitions(),
		"nodes", len(slices.DeleteFunc(cl.Nodes(), func(n cluster.Node) bool { return !n.Live })))
	return cl, nil
}

// housekeep holds the purge lease: while it does, this node purges the journal
// and tidies its cursors (the journal asks members), and forgets nodes gone for
// good.
func housekeep(ctx context.Context, cl *cluster.Cluster, m *members, log *slog.Logger) {
	cl.Hold(ctx, "purge", func(ctx context.Context) {
		m.purging.Store(true)
		defer m.purging.Store(false)
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			// The journal's Tidy deletes a gone node's cursors (Members leaves it out).
			if err := cl.Sweep(ctx, func(context.Context, cluster.Node) error { return nil }); err != nil && ctx.Err() == nil {
				log.Warn("forgetting nodes gone for good", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}

// leaveCluster marks this node stopped in the registry, within the shutdown
// budget whatever NATS does.
func leaveCluster(clock *shutdownClock, cl *cluster.Cluster) {
	clock.run("leave the cluster", leaveDone, cl.Leave)
}

// keepConsumers deletes, on a journal of one node, the cursors of sinks this node
// no longer runs. On a shared journal the purging node tidies, by the registry.
func keepConsumers(ctx context.Context, j *journal.Journal, ss *sinkSet, node string) error {
	if j.Shared() {
		return nil
	}
	names := []string{j.ReplicaConsumer(archiveSink, node)}
	for _, s := range ss.names()[1:] {
		for p := range j.Partitions() {
			names = append(names, journal.PartitionConsumer(s, p))
		}
	}
	return j.KeepSinks(ctx, names)
}
