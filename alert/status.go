package alert

import (
	"fmt"
	"slices"
	"time"

	"github.com/drainpipe/drainpipe"
)

// Status is a rule as `drainpipe alerts list` and the UI show it.
type Status struct {
	// Rule is the rule, its destinations redacted.
	Rule    Rule      `json:"rule"`
	Created time.Time `json:"created"`
	// Groups are the tracked groups, firing first.
	Groups []GroupStatus `json:"groups"`
	// LastWindow is the last window evaluated (zero before the first); Evaluated
	// counts the windows evaluated, EvaluatedAt is when the last one was.
	LastWindow  Window    `json:"last_window"`
	Evaluated   int64     `json:"evaluated"`
	EvaluatedAt time.Time `json:"evaluated_at,omitzero"`
	// Waiting says why the next window is not evaluated yet.
	Waiting string `json:"waiting,omitempty"`
	// Excess counts the groups of the last window left out (over MaxGroups).
	Excess int `json:"excess,omitempty"`
	// Muted says whether notifications are held back now; MutedUntil is the mute
	// set by `drainpipe alerts mute`.
	Muted      bool      `json:"muted"`
	MutedUntil time.Time `json:"muted_until,omitzero"`
	// LastError is the last evaluation error, while it lasts.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// LastDelivery is the last delivery attempt and its result.
	LastDelivery *DeliveryResult `json:"last_delivery,omitempty"`
	// Outbox lists the notifications waiting for delivery.
	Outbox []Pending `json:"outbox,omitempty"`
	// Delivered, Failed and Dropped count deliveries made, attempts failed, and
	// notifications given up or dropped.
	Delivered int64 `json:"delivered"`
	Failed    int64 `json:"failed"`
	Dropped   int64 `json:"dropped"`
	// SearchURL opens the rule's search (or graph) in the UI over its incident, from
	// the first firing group's start, or over its last window.
	SearchURL string `json:"search_url,omitempty"`
}

// GroupStatus is one group of a rule.
type GroupStatus struct {
	// Label shows the group's values ("code=H12"); "" for a rule without group_by.
	Label string `json:"label"`
	GroupState
}

// Pending is a notification waiting for delivery.
type Pending struct {
	Destination string    `json:"destination"`
	Event       string    `json:"event"`
	Group       string    `json:"group,omitempty"`
	Queued      time.Time `json:"queued"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error,omitempty"`
}

// List returns every rule's status, by name.
func (s *Service) List() []Status {
	entries := s.entries(false)
	out := make([]Status, 0, len(entries))
	for _, e := range entries {
		out = append(out, s.status(e))
	}
	return out
}

// Get returns one rule's status.
func (s *Service) Get(name string) (Status, error) {
	e, ok := s.entry(name)
	if !ok {
		return Status{}, fmt.Errorf("alert rule %s: %w", name, drainpipe.ErrNotFound)
	}
	return s.status(e), nil
}

// History returns the newest limit events of a rule (all kept when limit ≤ 0),
// oldest first.
func (s *Service) History(name string, limit int) ([]Event, error) {
	e, ok := s.entry(name)
	if !ok {
		return nil, fmt.Errorf("alert rule %s: %w", name, drainpipe.ErrNotFound)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.state.History
	if limit > 0 && len(h) > limit {
		h = h[len(h)-limit:]
	}
	return slices.Clone(h), nil
}

func (s *Service) status(e *entry) Status {
	s.mu.Lock()
	mk := s.marks
	s.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	now := s.cfg.Now()
	st := e.state
	r := e.rule
	r.Notify = make([]string, len(st.Notify))
	for i, d := range st.Notify {
		r.Notify[i] = d.Name
	}
	out := Status{
		Rule: r, Created: e.created, Evaluated: st.Evaluated, EvaluatedAt: st.EvaluatedAt, Excess: st.Excess,
		Muted: r.Mute.MutedAt(now) || now.Before(st.MutedUntil), MutedUntil: st.MutedUntil,
		LastError: st.LastError, LastErrorAt: st.LastErrorAt, LastDelivery: st.LastDelivery,
		Delivered: st.Delivered, Failed: st.Failed, Dropped: st.Dropped, Groups: []GroupStatus{},
	}
	from := st.Next.Add(-r.Window)
	if st.Evaluated > 0 {
		out.LastWindow = Window{Start: from, End: st.Next}
	}
	for _, g := range sortedGroups(st.Groups) {
		gs := GroupStatus{Label: groupLabel(r.GroupBy, g.Values), GroupState: *g}
		gs.To = nil // ids mean nothing to a reader
		out.Groups = append(out.Groups, gs)
		if g.State == StateFiring && g.FiringSince.Before(from) {
			from = g.FiringSince
		}
	}
	if st.Evaluated > 0 {
		out.SearchURL = searchURL(s.cfg.PublicURL, &r, nil, from, st.Next)
	}
	for _, d := range st.Outbox {
		out.Outbox = append(out.Outbox, Pending{Destination: d.Dest.Name, Event: d.Notification.Event, Group: d.Notification.GroupLabel,
			Queued: d.Queued, Attempts: d.Attempts, NextAttempt: d.NextAttempt, LastError: d.LastError})
	}
	if e.broken != nil && out.LastError == "" {
		out.LastError = e.broken.Error()
	}
	mark := mk.lines
	if r.Kind == Metric {
		mark = mk.metrics
	}
	out.Waiting = s.waiting(&r, st.Next, mark, now)
	return out
}

// waitingAfter is how late a window may be before the status says what holds it:
// the watermark normally trails the clock by a few seconds.
const waitingAfter = 15 * time.Second

// waiting says when the next window, starting at next, will be evaluated, and what
// holds it back when it is not the clock.
func (s *Service) waiting(r *Rule, next, mark, now time.Time) string {
	due := next.Add(r.Window + s.cfg.Grace)
	source := "the archive"
	if r.Kind == Metric {
		source = "the metrics"
	}
	switch {
	case now.Before(due.Add(waitingAfter)):
		return "" // due now or soon: the next pass takes it
	case mark.IsZero():
		return "waiting for " + source + " to report how far it has applied lines"
	case mark.Before(due):
		return fmt.Sprintf("waiting for %s: it has applied every line received before %s; the window ending %s is evaluated once it reaches %s",
			source, mark.UTC().Format(time.RFC3339), next.Add(r.Window).UTC().Format(time.RFC3339), due.UTC().Format(time.RFC3339))
	}
	return ""
}
