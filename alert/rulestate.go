package alert

import (
	"slices"
	"strings"
	"time"
)

// Caps that keep one rule's stored state small (it is one key-value entry, written
// once per window).
const (
	// MaxHistory is the number of events a rule keeps; older ones are forgotten.
	MaxHistory = 200
	// MaxOutbox caps the notifications waiting for delivery per rule; past it the
	// oldest are dropped (resolved ones last), and counted.
	MaxOutbox = 100
)

// Event is one entry of a rule's history.
type Event struct {
	// Time is when it happened (the server's clock).
	Time time.Time `json:"time"`
	// Type is pending, firing, resolved, renotify, muted (a firing held back by a
	// mute), delivered, failed, gave_up, dropped, over_cap, error, skipped,
	// rule_changed or rule_removed.
	Type string `json:"type"`
	// Window is the evaluation window the event concerns, if any.
	Window *Window `json:"window,omitempty"`
	// Group is the group's label ("code=H12"); "" for the rule as a whole.
	Group string `json:"group,omitempty"`
	// Value is the window's count or metric value.
	Value *float64 `json:"value,omitempty"`
	// Destination is the redacted destination of a delivery event.
	Destination string `json:"destination,omitempty"`
	// Detail says more: an error, a notification id, a number of windows.
	Detail string `json:"detail,omitempty"`
}

// sealedDest is a destination as stored: its sealed URL, its redacted form for
// display, and its id (Sealer.id), which tells whether two sealed URLs are the
// same destination; "" in what was stored before ids.
type sealedDest struct {
	Sealed string `json:"sealed"`
	Name   string `json:"name"`
	ID     string `json:"id,omitempty"`
}

// Delivery is a notification waiting to reach one destination.
type Delivery struct {
	Dest         sealedDest   `json:"dest"`
	Notification Notification `json:"notification"`
	// Queued is when it was made; Attempts counts the tries so far.
	Queued   time.Time `json:"queued"`
	Attempts int       `json:"attempts,omitempty"`
	// NextAttempt is when it is tried next.
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	// LastError is the last try's error; Rejected is set when the destination
	// refused it for good.
	LastError string `json:"last_error,omitempty"`
	Rejected  bool   `json:"rejected,omitempty"`
}

// DeliveryResult is the outcome of the last delivery attempt of a rule.
type DeliveryResult struct {
	Time           time.Time `json:"time"`
	Destination    string    `json:"destination"`
	Event          string    `json:"event"`
	NotificationID string    `json:"notification_id"`
	OK             bool      `json:"ok"`
	Error          string    `json:"error,omitempty"`
	Attempts       int       `json:"attempts"`
}

// ruleState is everything a rule's evaluation keeps, stored as one key-value entry
// so that a window's evaluation (position, group states, the notifications it made)
// is saved all at once or not at all.
type ruleState struct {
	Rule     string `json:"rule"`
	Identity string `json:"identity"`
	// Def is the rule's definition without its destinations, to resolve its groups
	// after it is gone.
	Def Rule `json:"def"`
	// Next is the start of the next window to evaluate: every window before it has
	// been evaluated, once.
	Next        time.Time `json:"next"`
	Evaluated   int64     `json:"evaluated"`
	EvaluatedAt time.Time `json:"evaluated_at,omitzero"`
	// Groups are the tracked groups by key; Excess counts the groups of the last
	// window that were left out (over MaxGroups).
	Groups map[string]*GroupState `json:"groups,omitempty"`
	Excess int                    `json:"excess,omitempty"`
	// MutedUntil is set by `drainpipe alerts mute`.
	MutedUntil time.Time `json:"muted_until,omitzero"`
	// Notify are the rule's destinations, kept so that its groups can still be
	// resolved after the rule is gone.
	Notify []sealedDest `json:"notify,omitempty"`
	// Former are destinations the rule no longer notifies that an announced
	// incident's firing went to: its resolution still goes there.
	Former []sealedDest `json:"former,omitempty"`
	// Outbox holds the notifications not yet delivered, in order.
	Outbox  []*Delivery `json:"outbox,omitempty"`
	History []Event     `json:"history,omitempty"`
	// Removed marks the state of a rule that is gone: it stays until its outbox
	// (the resolved notifications) is delivered.
	Removed      bool            `json:"removed,omitempty"`
	LastError    string          `json:"last_error,omitempty"`
	LastErrorAt  time.Time       `json:"last_error_at,omitzero"`
	LastDelivery *DeliveryResult `json:"last_delivery,omitempty"`
	// Delivered, Failed and Dropped count deliveries that succeeded, attempts that
	// failed, and notifications given up or dropped.
	Delivered int64 `json:"delivered,omitempty"`
	Failed    int64 `json:"failed,omitempty"`
	Dropped   int64 `json:"dropped,omitempty"`

	rev uint64 // the stored entry's revision; 0 before the first save
}

// record appends e to the history, forgetting the oldest past MaxHistory.
func (st *ruleState) record(e Event) {
	st.History = append(st.History, e)
	if over := len(st.History) - MaxHistory; over > 0 {
		st.History = slices.Delete(st.History, 0, over)
	}
}

// enqueue adds a delivery of n to each of dests, making room past MaxOutbox. It
// returns the deliveries dropped to make room.
func (st *ruleState) enqueue(n Notification, dests []sealedDest, now time.Time) []*Delivery {
	var dropped []*Delivery
	for _, d := range dests {
		if len(st.Outbox) >= MaxOutbox {
			i := slices.IndexFunc(st.Outbox, func(x *Delivery) bool { return x.Notification.Event != EventResolved })
			if i < 0 {
				i = 0
			}
			dropped = append(dropped, st.Outbox[i])
			st.Outbox = slices.Delete(st.Outbox, i, i+1)
		}
		st.Outbox = append(st.Outbox, &Delivery{Dest: d, Notification: n, Queued: now, NextAttempt: now})
	}
	return dropped
}

// resolveAll resolves every announced firing group for reason (the rule was removed
// or changed), each where its firing went, and forgets the groups. It returns the
// notifications made.
func (st *ruleState) resolveAll(r *Rule, reason string, now time.Time, publicURL string) []Notification {
	var out []Notification
	for _, g := range sortedGroups(st.Groups) {
		if g.State != StateFiring || !g.Announced {
			continue
		}
		w := Window{Start: st.Next.Add(-r.Window), End: st.Next}
		n := newNotification(r, g, EventResolved, reason, w, now, publicURL)
		n.ID = notificationID(r.Name, groupKey(g.Values), EventResolved+"/"+reason, st.Next, 0)
		st.enqueue(n, st.owed(g), now)
		out = append(out, n)
	}
	st.Groups = nil
	st.Excess = 0
	st.Former = nil // no incident is left to resolve
	return out
}

// maxFormer caps the former destinations a state keeps, and the destinations a
// group remembers: only a rule whose destinations change over and over during an
// incident reaches it, and then the resolutions owed to the oldest are not sent.
const maxFormer = 2 * MaxDestinations

// owed returns the destinations g's resolution goes to: those its firing and
// renotify notifications went to, whatever the rule notifies now. A group
// announced before destinations had ids goes to the rule's destinations.
func (st *ruleState) owed(g *GroupState) []sealedDest {
	if g.To == nil {
		return st.Notify
	}
	var out []sealedDest
	for _, id := range g.To {
		for _, list := range [][]sealedDest{st.Notify, st.Former} {
			if i := slices.IndexFunc(list, func(d sealedDest) bool { return d.ID == id }); i >= 0 {
				out = append(out, list[i])
				break
			}
		}
	}
	return out
}

// sentTo adds dests to the destinations g's incident was notified to. When one has
// no id, destinations cannot be told apart: g.To becomes nil, and the resolution
// goes to the rule's destinations of the time.
func (g *GroupState) sentTo(dests []sealedDest) {
	for _, d := range dests {
		if d.ID == "" {
			g.To = nil
			return
		}
		if !slices.Contains(g.To, d.ID) {
			g.To = append(g.To, d.ID)
		}
	}
	if over := len(g.To) - maxFormer; over > 0 {
		g.To = slices.Delete(g.To, 0, over)
	}
}

// redirect makes dests the rule's destinations. One it notified before that an
// announced incident's resolution is still owed to moves to Former. A destination
// already held keeps its sealed form: Deliver sends in order the deliveries of one
// sealed form, and its firing may still be waiting.
func (st *ruleState) redirect(dests []sealedDest) {
	dests = slices.Clone(dests)
	for i, d := range dests {
		for _, old := range append(slices.Clone(st.Notify), st.Former...) {
			if d.ID != "" && old.ID == d.ID {
				dests[i].Sealed = old.Sealed
				break
			}
		}
	}
	for _, old := range st.Notify {
		if old.ID != "" && !slices.ContainsFunc(dests, func(d sealedDest) bool { return d.ID == old.ID }) &&
			!slices.ContainsFunc(st.Former, func(d sealedDest) bool { return d.ID == old.ID }) {
			st.Former = append(st.Former, old)
		}
	}
	st.Notify = dests
	st.prune()
}

// prune forgets the former destinations no announced incident went to, and keeps
// the newest maxFormer.
func (st *ruleState) prune() {
	owed := map[string]bool{}
	for _, g := range st.Groups {
		if g.Announced {
			for _, id := range g.To {
				owed[id] = true
			}
		}
	}
	st.Former = slices.DeleteFunc(st.Former, func(d sealedDest) bool {
		return !owed[d.ID] || slices.ContainsFunc(st.Notify, func(n sealedDest) bool { return n.ID == d.ID })
	})
	if over := len(st.Former) - maxFormer; over > 0 {
		st.Former = slices.Delete(st.Former, 0, over)
	}
	if len(st.Former) == 0 {
		st.Former = nil
	}
}

// destType names a destination's kind from its redacted URL, for metric labels.
func destType(name string) string {
	scheme, _, _ := strings.Cut(name, "://")
	scheme, _, _ = strings.Cut(scheme, "+")
	switch scheme {
	case "slack", "pagerduty", "webhook", "smtp", "smtps":
		return scheme
	}
	return "other"
}
