package cluster

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// leaseValue is what a lease's key holds.
type leaseValue struct {
	Node  string    `json:"node"`
	Boot  string    `json:"boot"`
	Since time.Time `json:"since"`
}

// Share runs fn(ctx, part) for each part of group (0 ≤ part < n) this node owns,
// until ctx ends; each part is owned by one node at a time, and the parts are
// spread over the live nodes that run group (Config.Sinks). fn's context ends when
// the part is lost (the lease could not be renewed in time) or given back (another
// node joined); fn must then return promptly. Share gives back every part and
// returns once every fn has returned.
func (c *Cluster) Share(ctx context.Context, group string, n int, fn func(ctx context.Context, part int)) {
	keys := make([]string, n)
	for p := range keys {
		keys[p] = PartKey(group, p)
	}
	m := c.newManager(group, keys, true, fn)
	m.run(ctx)
}

// Hold runs fn while this node holds the lease named key, taking it again after a
// loss, until ctx ends; one node of the cluster holds it at a time. fn's context
// ends when the lease is lost; fn must then return promptly.
func (c *Cluster) Hold(ctx context.Context, key string, fn func(ctx context.Context)) {
	m := c.newManager(key, []string{key}, false, func(ctx context.Context, _ int) { fn(ctx) })
	m.run(ctx)
}

// PartKey is the lease key of part p of group.
func PartKey(group string, p int) string { return fmt.Sprintf("%s.%d", group, p) }

// held is a lease this node holds, and the work running under it.
type held struct {
	part   int
	rev    uint64
	cancel context.CancelFunc
	done   chan struct{} // closed when the work returned
	expiry *time.Timer   // ends the work when the lease can no longer be trusted
}

// manager keeps the leases of one group.
type manager struct {
	c     *Cluster
	group string
	keys  []string
	share bool // a fair share among the nodes running group; else one holder, any node
	fn    func(ctx context.Context, part int)
	wake  chan struct{}
	value []byte

	mu        sync.Mutex
	held      map[int]*held
	releasing map[int]bool
	wg        sync.WaitGroup
}

func (c *Cluster) newManager(group string, keys []string, share bool, fn func(context.Context, int)) *manager {
	v, _ := json.Marshal(leaseValue{Node: c.self.Name, Boot: c.self.Boot, Since: c.self.Started})
	m := &manager{c: c, group: group, keys: keys, share: share, fn: fn, wake: make(chan struct{}, 1), value: v,
		held: map[int]*held{}, releasing: map[int]bool{}}
	c.mu.Lock()
	c.wake = append(c.wake, m.wake)
	c.mu.Unlock()
	return m
}

func (m *manager) run(ctx context.Context) {
	defer m.unhook()
	t := time.NewTicker(m.c.cfg.LeaseTTL / 4)
	defer t.Stop()
	for {
		m.renew()
		m.balance(ctx)
		select {
		case <-ctx.Done():
			m.releaseAll()
			return
		case <-t.C:
		case <-m.wake:
		}
	}
}

func (m *manager) unhook() {
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	m.c.wake = slices.DeleteFunc(m.c.wake, func(ch chan struct{}) bool { return ch == m.wake })
}

// renew writes every held lease again, all at once, and gives up those that
// failed for good; a lease whose renewals only time out ends by its expiry timer.
func (m *manager) renew() {
	m.mu.Lock()
	hs := make([]*held, 0, len(m.held))
	for _, h := range m.held {
		hs = append(hs, h)
	}
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, h := range hs {
		wg.Go(func() {
			select {
			case <-h.done:
				m.release(h, "its work ended")
				return
			default:
			}
			sent := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), m.c.cfg.LeaseTTL/4)
			rev, err := m.c.leases.Update(ctx, m.keys[h.part], m.value, h.rev)
			cancel()
			switch {
			case err == nil:
				m.mu.Lock()
				h.rev = rev
				h.expiry.Reset(time.Until(sent.Add(m.c.cfg.LeaseTTL * 3 / 4)))
				m.mu.Unlock()
			case errors.Is(err, jetstream.ErrKeyRevisionMismatch), errors.Is(err, jetstream.ErrKeyNotFound):
				m.c.log.Warn("lease lost: another node holds it now", "lease", m.keys[h.part])
				m.release(h, "lost")
			}
		})
	}
	wg.Wait()
}

// balance takes free parts up to this node's share and gives back what is over it.
func (m *manager) balance(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	want := m.share1()
	m.mu.Lock()
	owned := len(m.held)
	var mine, free []int
	for p := range m.keys {
		switch {
		case m.held[p] != nil:
			mine = append(mine, p)
		case m.releasing[p]:
		default:
			if _, taken := m.c.Owner(m.keys[p]); !taken {
				free = append(free, p)
			}
		}
	}
	m.mu.Unlock()
	m.sortByPreference(mine)
	for owned > want && len(mine) > 0 {
		last := mine[len(mine)-1]
		mine = mine[:len(mine)-1]
		m.mu.Lock()
		h := m.held[last]
		m.mu.Unlock()
		m.c.log.Info("giving a lease back: another node takes its share", "lease", m.keys[last])
		m.release(h, "given back")
		owned--
	}
	m.sortByPreference(free)
	for _, p := range free {
		if owned >= want {
			break
		}
		if m.acquire(ctx, p) {
			owned++
		}
	}
}

// share1 is how many parts this node should hold.
func (m *manager) share1() int {
	if !m.share {
		return len(m.keys)
	}
	nodes := 0
	self := false
	for _, n := range m.c.Nodes() {
		if n.Live && n.Runs(m.group) {
			nodes++
			self = self || n.Name == m.c.self.Name
		}
	}
	if !self {
		nodes++
	}
	return (len(m.keys) + nodes - 1) / nodes
}

// sortByPreference sorts parts, most preferred by this node first.
func (m *manager) sortByPreference(parts []int) {
	score := func(p int) uint64 {
		h := fnv.New64a()
		h.Write([]byte(m.c.self.Name))
		h.Write([]byte{0})
		h.Write([]byte(m.keys[p]))
		return h.Sum64()
	}
	slices.SortFunc(parts, func(a, b int) int { return cmp.Compare(score(b), score(a)) })
}

// acquire creates part p's lease and starts its work; false when another node was first.
func (m *manager) acquire(ctx context.Context, p int) bool {
	sent := time.Now()
	cctx, cancel := context.WithTimeout(ctx, m.c.cfg.LeaseTTL/4)
	rev, err := m.c.leases.Create(cctx, m.keys[p], m.value)
	cancel()
	if err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) && ctx.Err() == nil {
			m.c.log.Debug("lease not taken", "lease", m.keys[p], "err", err)
		}
		return false
	}
	wctx, stop := context.WithCancel(ctx)
	h := &held{part: p, rev: rev, cancel: stop, done: make(chan struct{})}
	h.expiry = time.AfterFunc(time.Until(sent.Add(m.c.cfg.LeaseTTL*3/4)), func() {
		m.c.log.Warn("lease expired before it could be renewed: its work stops", "lease", m.keys[p])
		stop()
	})
	m.mu.Lock()
	m.held[p] = h
	m.mu.Unlock()
	m.c.metrics.acquired.WithLabelValues(m.group).Inc()
	m.c.log.Info("lease taken", "lease", m.keys[p])
	m.wg.Go(func() {
		defer close(h.done)
		m.fn(wctx, p)
	})
	return true
}

// release ends h's work and, once it has returned, deletes its lease (unless
// another node wrote it since), in the background.
func (m *manager) release(h *held, why string) {
	m.mu.Lock()
	if m.held[h.part] != h {
		m.mu.Unlock()
		return
	}
	delete(m.held, h.part)
	m.releasing[h.part] = true
	m.mu.Unlock()
	h.cancel()
	h.expiry.Stop()
	m.wg.Go(func() {
		<-h.done
		ctx, cancel := context.WithTimeout(context.Background(), m.c.cfg.LeaseTTL/4)
		err := m.c.leases.Delete(ctx, m.keys[h.part], jetstream.LastRevision(h.rev))
		cancel()
		if err != nil && why != "lost" {
			m.c.log.Debug("lease not deleted; it expires by itself", "lease", m.keys[h.part], "err", err)
		}
		m.mu.Lock()
		delete(m.releasing, h.part)
		m.mu.Unlock()
		select {
		case m.wake <- struct{}{}:
		default:
		}
	})
}

// releaseAll gives back every lease and waits for every work and deletion.
func (m *manager) releaseAll() {
	m.mu.Lock()
	hs := make([]*held, 0, len(m.held))
	for _, h := range m.held {
		hs = append(hs, h)
	}
	m.mu.Unlock()
	for _, h := range hs {
		m.release(h, "stopping")
	}
	m.wg.Wait()
}
