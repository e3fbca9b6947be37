package alert

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// The states of a group.
const (
	// StateOK is a group that does not breach.
	StateOK = "ok"
	// StatePending is a group that breaches, for fewer windows than the rule's For.
	StatePending = "pending"
	// StateFiring is a group that breached For windows in a row and has not recovered.
	StateFiring = "firing"
	// StateResolved is a group that fired and recovered.
	StateResolved = "resolved"
)

// forgetAfter is how long a group that neither fires nor is pending is kept after its
// last change: long enough to show what resolved today.
const forgetAfter = 24 * time.Hour

// GroupState is what one group of a rule is doing.
type GroupState struct {
	// Values are the group's values, one per group_by field.
	Values []string `json:"values,omitempty"`
	// State is ok, pending, firing or resolved.
	State string `json:"state"`
	// Streak counts the consecutive breaching windows.
	Streak int `json:"streak,omitempty"`
	// Value is the count or metric value of the last window evaluated; NoData is set
	// when a metric had no sample in it.
	Value  float64 `json:"value"`
	NoData bool    `json:"no_data,omitempty"`
	// Since is the end of the window in which State began.
	Since time.Time `json:"since"`
	// FiringSince is the start of the first breaching window of the current or last
	// incident.
	FiringSince time.Time `json:"firing_since,omitzero"`
	// Announced is set once the incident's firing notification is queued; only an
	// announced incident's resolution is notified.
	Announced bool `json:"announced,omitempty"`
	// LastNotified is when the last firing or renotify notification was queued.
	LastNotified time.Time `json:"last_notified,omitzero"`
	// Renotified counts the renotify notifications of the incident.
	Renotified int `json:"renotified,omitempty"`
	// To are the ids of the destinations the incident's firing and renotify
	// notifications were queued to, where its resolution goes; nil when they are
	// not known (see ruleState.owed).
	To []string `json:"to,omitempty"`
}

// Window is one evaluation window: [Start, End), by line time.
type Window struct {
	Start, End time.Time
}

// windowAt returns the window of length d that holds t.
func windowAt(t time.Time, d time.Duration) Window {
	s := t.Truncate(d)
	return Window{Start: s, End: s.Add(d)}
}

// observation is what one window showed a rule.
type observation struct {
	// values holds each observed group's value; a group that is not in it had no
	// line (count 0) or, for a metric, no sample.
	values map[string]float64
	labels map[string][]string
	// excess counts the groups the source left out; when it is not 0 a known group
	// missing from values may have lines, so it is left as it was.
	excess int
}

// change is one group's transition in a window.
type change struct {
	key   string
	event string // StatePending, StateFiring, StateResolved, "renotify", "muted"
	group GroupState
}

// step applies window w's observation to the groups of st and returns the
// transitions. now is the evaluation's clock (renotify); muted says whether
// notifications are held back.
func (st *ruleState) step(r *Rule, w Window, obs observation, now time.Time, muted bool) []change {
	if st.Groups == nil {
		st.Groups = map[string]*GroupState{}
	}
	st.Excess = obs.excess
	keys := make([]string, 0, len(st.Groups)+len(obs.values))
	for k := range st.Groups {
		keys = append(keys, k)
	}
	for k := range obs.values {
		if _, ok := st.Groups[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []change
	for _, k := range keys {
		v, seen := obs.values[k]
		g, known := st.Groups[k]
		if !known {
			if !r.Below && !r.breaches(v, r.Threshold) {
				continue // above rules track a group once it breaches
			}
			if !st.makeRoom() {
				st.Excess++
				continue
			}
			g = &GroupState{Values: obs.labels[k], State: StateOK, Since: w.End}
			st.Groups[k] = g
		}
		hasValue := true
		switch {
		case seen:
		case r.Kind == Metric && r.Agg != "count" && r.Agg != "sum":
			hasValue = false // no sample: no value to compare
		case obs.excess > 0 && len(r.GroupBy) > 0:
			continue // the group may be among those left out: hold it as it is
		default:
			v = 0 // no line, or no sample of a counter
		}
		if ev := g.step(r, w, v, hasValue, now, muted); ev != "" {
			out = append(out, change{key: k, event: ev, group: *g})
		}
	}
	st.forget(r, w.End)
	return out
}

// makeRoom reports whether a new group can be tracked: below and absence rules
// track every group seen, to notice when it stops; above rules a group once it
// breaches. Past MaxGroups, the group that has been quiet (ok or resolved) the
// longest makes room, or there is none.
func (st *ruleState) makeRoom() bool {
	if len(st.Groups) < MaxGroups {
		return true
	}
	var oldest string
	for gk, g := range st.Groups {
		if g.State != StateOK && g.State != StateResolved {
			continue
		}
		if oldest == "" || g.Since.Before(st.Groups[oldest].Since) {
			oldest = gk
		}
	}
	if oldest == "" {
		return false
	}
	delete(st.Groups, oldest)
	return true
}

// forget drops the groups that have been quiet (ok or resolved) for forgetAfter, in
// rules that track only breaching groups; below and absence rules keep every group,
// to notice when one stops.
func (st *ruleState) forget(r *Rule, now time.Time) {
	if r.Below {
		return
	}
	for k, g := range st.Groups {
		if (g.State == StateOK || g.State == StateResolved) && now.Sub(g.Since) >= forgetAfter {
			delete(st.Groups, k)
		}
	}
}

// step moves one group through one window and returns the event to record, if any.
func (g *GroupState) step(r *Rule, w Window, v float64, hasValue bool, now time.Time, muted bool) string {
	g.Value, g.NoData = v, !hasValue
	if g.State == StateFiring {
		if !hasValue || !r.breaches(v, r.recoverAt()) {
			g.State, g.Since, g.Streak = StateResolved, w.End, 0
			return StateResolved
		}
		switch {
		case muted:
			return ""
		case !g.Announced:
			g.announce(now)
			return StateFiring
		case r.Renotify > 0 && !now.Before(g.LastNotified.Add(r.Renotify)):
			g.LastNotified = now
			g.Renotified++
			return "renotify"
		}
		return ""
	}
	if !hasValue || !r.breaches(v, r.Threshold) {
		g.Streak = 0
		if g.State == StatePending {
			g.State, g.Since = StateOK, w.End
		}
		return ""
	}
	g.Streak++
	if g.Streak < r.For {
		if g.State == StatePending {
			return ""
		}
		g.State, g.Since = StatePending, w.End
		return StatePending
	}
	g.State, g.Since = StateFiring, w.End
	g.FiringSince = w.Start.Add(-time.Duration(r.For-1) * r.Window)
	g.Announced, g.Renotified, g.To = false, 0, nil
	if muted {
		return "muted"
	}
	g.announce(now)
	return StateFiring
}

func (g *GroupState) announce(now time.Time) {
	g.Announced = true
	g.LastNotified = now
}

// groupKey is the map key of a group's values.
func groupKey(values []string) string { return strings.Join(values, "\x00") }

// groupLabel shows a group as "code=H12,dyno=web.1"; "" for a rule without group_by.
func groupLabel(fields, values []string) string {
	parts := make([]string, 0, len(fields))
	for i, f := range fields {
		v := ""
		if i < len(values) {
			v = values[i]
		}
		parts = append(parts, f+"="+v)
	}
	return strings.Join(parts, ",")
}

// sortedGroups returns the groups by state (firing first), then by values.
func sortedGroups(groups map[string]*GroupState) []*GroupState {
	out := make([]*GroupState, 0, len(groups))
	for _, g := range groups {
		out = append(out, g)
	}
	rank := map[string]int{StateFiring: 0, StatePending: 1, StateResolved: 2, StateOK: 3}
	slices.SortFunc(out, func(a, b *GroupState) int {
		return cmp.Or(cmp.Compare(rank[a.State], rank[b.State]), slices.Compare(a.Values, b.Values))
	})
	return out
}
