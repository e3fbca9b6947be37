package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// beat writes this node's entry once.
func (c *Cluster) beat(ctx context.Context) error {
	self := c.self
	if c.cfg.Report != nil {
		r, err := json.Marshal(c.cfg.Report())
		if err != nil {
			return fmt.Errorf("node report: %w", err)
		}
		self.Report = r
	}
	b, err := json.Marshal(self)
	if err != nil {
		return err
	}
	_, err = c.nodes.Put(ctx, c.cfg.Node, b)
	return err
}

// heartbeatLoop writes this node's entry every Heartbeat until Leave.
func (c *Cluster) heartbeatLoop() {
	t := time.NewTicker(c.cfg.Heartbeat)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Heartbeat)
		err := c.beat(ctx)
		cancel()
		switch {
		case err != nil && !failing:
			c.log.Warn("cluster heartbeat failed: other nodes will count this one out after three heartbeats", "err", err)
			c.metrics.heartbeatFailures.Inc()
		case err != nil:
			c.metrics.heartbeatFailures.Inc()
		case failing:
			c.log.Info("cluster heartbeat works again")
		}
		failing = err != nil
	}
}

// startWatches starts the watches of both buckets and waits for their initial values.
func (c *Cluster) startWatches(ctx context.Context) error {
	for _, w := range []struct {
		kv    jetstream.KeyValue
		apply func(jetstream.KeyValueEntry)
	}{{c.nodes, c.applyNode}, {c.leases, c.applyLease}} {
		kw, err := w.kv.WatchAll(context.Background())
		if err != nil {
			return fmt.Errorf("watch %s: %w", w.kv.Bucket(), err)
		}
		c.watches = append(c.watches, kw)
		ready := make(chan struct{})
		c.watching.Go(func() { c.follow(kw, w.apply, ready) })
		select {
		case <-ready:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// follow applies a watch's entries until it stops; ready closes after the initial values.
func (c *Cluster) follow(w jetstream.KeyWatcher, apply func(jetstream.KeyValueEntry), ready chan struct{}) {
	initial := true
	for e := range w.Updates() {
		if e == nil {
			if initial {
				initial = false
				close(ready)
			}
			continue
		}
		apply(e)
	}
	if initial {
		close(ready)
	}
}

func (c *Cluster) stopWatches() {
	for _, w := range c.watches {
		_ = w.Stop()
	}
	c.watches = nil
}

func (c *Cluster) applyNode(e jetstream.KeyValueEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.Operation() != jetstream.KeyValuePut {
		delete(c.registry, e.Key())
		return
	}
	var n Node
	if err := json.Unmarshal(e.Value(), &n); err != nil || n.Name != e.Key() {
		return // not an entry drainpipe wrote
	}
	n.Seen = e.Created()
	if n.Name == c.self.Name && n.Boot == c.self.Boot {
		// Our own heartbeat, just written: the server's clock read it a moment ago.
		c.offset = time.Since(n.Seen)
	}
	c.registry[n.Name] = n
}

func (c *Cluster) applyLease(e jetstream.KeyValueEntry) {
	c.mu.Lock()
	if e.Operation() != jetstream.KeyValuePut {
		delete(c.owners, e.Key())
		wake := append([]chan struct{}(nil), c.wake...)
		c.mu.Unlock()
		for _, ch := range wake {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
		return
	}
	defer c.mu.Unlock()
	var v leaseValue
	if json.Unmarshal(e.Value(), &v) != nil {
		return
	}
	c.owners[e.Key()] = leaseSeen{node: v.Node, boot: v.Boot, written: e.Created()}
}

// Owner returns the node that holds the lease key, if a node holds it.
func (c *Cluster) Owner(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.owners[key]
	if !ok || c.serverNowLocked().Sub(o.written) >= c.cfg.LeaseTTL {
		return "", false
	}
	return o.node, true
}

// Owners returns every lease held now, by key.
func (c *Cluster) Owners() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.serverNowLocked()
	out := make(map[string]string, len(c.owners))
	for k, o := range c.owners {
		if now.Sub(o.written) < c.cfg.LeaseTTL {
			out[k] = o.node
		}
	}
	return out
}
