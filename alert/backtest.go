package alert

import (
	"context"
	"fmt"
	"time"

	"github.com/drainpipe/drainpipe"
)

// MaxBacktestWindows bounds one backtest.
const MaxBacktestWindows = 10000

// Backtest is what a rule would have done over stored lines.
type Backtest struct {
	Rule string `json:"rule"`
	// From and To bound the windows evaluated: [From, To).
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Windows int       `json:"windows"`
	// Events are the transitions, in order: pending, firing (or muted: a firing a
	// mute would have held back), renotify, resolved.
	Events []BacktestEvent `json:"events"`
	// Fired and Resolved count the firing and resolved events; StillFiring lists
	// the groups firing at the end.
	Fired       int      `json:"fired"`
	Resolved    int      `json:"resolved"`
	StillFiring []string `json:"still_firing"`
}

// BacktestEvent is one transition of a backtest.
type BacktestEvent struct {
	Window Window  `json:"window"`
	Group  string  `json:"group,omitempty"`
	Event  string  `json:"event"`
	Value  float64 `json:"value"`
	NoData bool    `json:"no_data,omitempty"`
}

// Backtest evaluates rule name over the windows from the one holding since to the
// last ready one, from a blank state, exactly as the live evaluation would (the
// same windows, grace, thresholds, for, recovery and mutes), without notifying
// anyone and without touching the rule's state.
func (s *Service) Backtest(ctx context.Context, name string, since time.Time) (Backtest, error) {
	e, ok := s.entry(name)
	if !ok {
		return Backtest{}, fmt.Errorf("alert rule %s: %w", name, drainpipe.ErrNotFound)
	}
	e.mu.Lock()
	r := e.rule
	e.mu.Unlock()
	var mark time.Time
	var err error
	if r.Kind == Metric {
		mark, err = s.cfg.Metrics.Watermark(ctx)
	} else {
		mark, err = s.cfg.Searcher.Watermark(ctx)
	}
	if err != nil {
		return Backtest{}, fmt.Errorf("watermark: %w", err)
	}
	bt := Backtest{Rule: r.Name, From: windowAt(since, r.Window).Start, Events: []BacktestEvent{}, StillFiring: []string{}}
	if n := mark.Add(-s.cfg.Grace).Sub(bt.From) / r.Window; n > MaxBacktestWindows {
		return Backtest{}, fmt.Errorf("%w: backtest of %d windows of %s: at most %d; test a shorter span", ErrInvalid, n, r.Window, MaxBacktestWindows)
	}
	st := &ruleState{Rule: r.Name, Next: bt.From}
	for {
		w := Window{Start: st.Next, End: st.Next.Add(r.Window)}
		if w.End.Add(s.cfg.Grace).After(mark) {
			break
		}
		obs, err := s.observe(ctx, &r, w)
		if err != nil {
			return Backtest{}, err
		}
		at := w.End.Add(s.cfg.Grace) // when the live evaluation would have run
		for _, c := range st.step(&r, w, obs, at, r.Mute.MutedAt(at)) {
			bt.add(&r, c, w)
		}
		st.Next = w.End
		bt.Windows++
	}
	bt.To = st.Next
	for _, g := range sortedGroups(st.Groups) {
		if g.State == StateFiring {
			bt.StillFiring = append(bt.StillFiring, groupLabel(r.GroupBy, g.Values))
		}
	}
	return bt, nil
}

func (bt *Backtest) add(r *Rule, c change, w Window) {
	ev := BacktestEvent{Window: w, Group: groupLabel(r.GroupBy, c.group.Values), Event: c.event, Value: c.group.Value, NoData: c.group.NoData}
	switch c.event {
	case StateFiring:
		bt.Fired++
	case StateResolved:
		bt.Resolved++
	}
	bt.Events = append(bt.Events, ev)
}
