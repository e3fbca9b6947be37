package journal

import (
	"sync"
	"time"
)

// dedupCap bounds the keys remembered, whatever the rate of batches: the oldest go first.
const dedupCap = 1 << 20

// dedup remembers the batches committed within the window, and the ones being
// written now, by drain and key.
type dedup struct {
	window time.Duration
	mu     sync.Mutex
	keys   map[string]*dedupEntry
	order  []string // committed keys, oldest first, for expiry
}

type dedupEntry struct {
	done      chan struct{} // closed when the write in flight settles
	committed time.Time     // zero while in flight
}

func newDedup(window time.Duration) *dedup {
	return &dedup{window: window, keys: make(map[string]*dedupEntry)}
}

// claim reports whether key was committed within the window; else whether the caller
// now owns writing it; else a channel that closes when its current writer settles.
func (d *dedup) claim(key string) (owned bool, wait <-chan struct{}, committed bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.keys[key]
	if ok && !e.committed.IsZero() && time.Since(e.committed) < d.window {
		return false, nil, true
	}
	if ok && e.committed.IsZero() {
		return false, e.done, false
	}
	d.keys[key] = &dedupEntry{done: make(chan struct{})}
	return true, nil, false
}

// settle records the outcome of the owner's write and wakes those waiting on it.
func (d *dedup) settle(key string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.keys[key]
	if err != nil {
		delete(d.keys, key)
	} else {
		e.committed = time.Now()
		d.remember(key)
	}
	close(e.done)
}

// add records a key committed at t, as recovered from the journal at start.
func (d *dedup) add(key string, t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.keys[key]; ok {
		return
	}
	done := make(chan struct{})
	close(done)
	d.keys[key] = &dedupEntry{done: done, committed: t}
	d.remember(key)
}

// remember queues key for expiry and expires what has aged out of the window.
func (d *dedup) remember(key string) {
	d.order = append(d.order, key)
	for len(d.order) > 0 {
		oldest := d.order[0]
		e, ok := d.keys[oldest]
		if ok && !e.committed.IsZero() && time.Since(e.committed) < d.window && len(d.order) <= dedupCap {
			break
		}
		if ok && !e.committed.IsZero() {
			delete(d.keys, oldest)
		}
		d.order[0] = ""
		d.order = d.order[1:]
	}
	if cap(d.order) > 4*len(d.order)+1024 {
		d.order = append([]string(nil), d.order...)
	}
}

// size is the number of keys remembered.
func (d *dedup) size() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.keys)
}
