package cloudwatch

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// group is what the sink knows of one log group. It is dropped when idle, unless
// it is parked: memory follows the groups in use, not those ever seen.
type group struct {
	name string

	mu       sync.Mutex
	apps     map[string]time.Time // apps writing to the group, when last seen
	lastUsed time.Time
	retained bool   // retention enforcement queued since start or since creation
	park     *park  // non-nil while the group fails and its lines wait on disk
	failure  string // why the group is parked, as a person reads it
	// budget, once set, is spent by creating the group: a sender chose its name.
	budget *groupBudget

	// createMu lets one CreateLogGroup of this group be in flight in this process;
	// made counts the creations done, so a writer whose put found the group missing
	// before another writer created it does not create it again.
	createMu sync.Mutex
	made     atomic.Uint64
}

func newGroup(name string) *group {
	return &group{name: name, apps: map[string]time.Time{}}
}

// touch records that apps wrote to the group at now.
func (g *group) touch(apps map[string]bool, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.lastUsed = now
	for app := range apps {
		// A copy: the name is a slice of a journal message, which a long-lived
		// key would keep whole (assigning to a string key replaces the key too).
		g.apps[strings.Clone(app)] = now
	}
}

// idle forgets apps not seen since before cutoff and reports whether the whole
// group may be forgotten.
func (g *group) idle(cutoff time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for app, t := range g.apps {
		if t.Before(cutoff) {
			delete(g.apps, app)
		}
	}
	return g.park == nil && g.lastUsed.Before(cutoff)
}

// spends makes creating the group spend b, the budget of the drain whose
// sender chose its name.
func (g *group) spends(b *groupBudget) {
	g.mu.Lock()
	g.budget = b
	g.mu.Unlock()
}

// mayCreate reports whether the group may be created now, spending its budget.
func (g *group) mayCreate() bool {
	g.mu.Lock()
	b := g.budget
	g.mu.Unlock()
	return b == nil || b.lim.Allow()
}

// needsRetention reports, once, that the group's retention is to be enforced.
func (g *group) needsRetention() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.retained {
		return false
	}
	g.retained = true
	return true
}

// retentionFailed asks for retention to be enforced again after the next put.
func (g *group) retentionFailed() {
	g.mu.Lock()
	g.retained = false
	g.mu.Unlock()
}

// created records that the group was (re)created, without a retention policy.
func (g *group) created() {
	g.made.Add(1)
	g.retentionFailed()
}

// creations is how many times this process created the group; a writer reads it
// before a put, and hands it to createGroup if the put finds the group missing.
func (g *group) creations() uint64 { return g.made.Load() }

// status is the group's state for the apps writing to it.
func (g *group) status(out map[string]string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.park == nil {
		for app := range g.apps {
			if _, ok := out[app]; !ok {
				out[app] = "ok"
			}
		}
		return
	}
	for app := range g.park.apps {
		out[app] = "parked: " + g.failure
	}
	for app := range g.apps {
		out[app] = "parked: " + g.failure
	}
}
