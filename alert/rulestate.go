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

// sealedDest is a destination as stored: its sealed URL, and its redacted form for
// display.
type sealedDest struct {
	Sealed string `json:"sealed"`
	Name   string `json:"name"`
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

// enqueue adds a delivery of n to each destination, making room past MaxOutbox.
// It returns the deliveries dropped to make room.
func (st *ruleState) enqueue(n Notification, now time.Time) []*Delivery {
	var dropped []*Delivery
	for _, d := range st.Notify {
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
// or changed) and forgets the groups. It returns the notifications made.
func (st *ruleState) resolveAll(r *Rule, reason string, now time.Time, publicURL string) []Notification {
	var out []Notification
	for _, g := range sortedGroups(st.Groups) {
		if g.State != StateFiring || !g.Announced {
			continue
		}
		w := Window{Start: st.Next.Add(-r.Window), End: st.Next}
		n := newNotification(r, g, EventResolved, reason, w, now, publicURL)
		n.ID = notificationID(r.Name, groupKey(g.Values), EventResolved+"/"+reason, st.Next, 0)
		st.enqueue(n, now)
		out = append(out, n)
	}
	st.Groups = nil
	st.Excess = 0
	return out
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
