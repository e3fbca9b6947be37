package httpd

import (
	"fmt"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/api"
)

// alertRule reads a rule from the wire; the service checks the rest.
func alertRule(in api.AlertRule) (alert.Rule, error) {
	r := alert.Rule{Name: in.Name, App: in.App, Kind: alert.Kind(in.Kind), Query: in.Query, Preset: in.Preset,
		Metric: in.Metric, Agg: in.Agg, Threshold: in.Threshold, Below: in.Below, For: in.For, Recover: in.Recover,
		GroupBy: in.GroupBy, Notify: in.Notify}
	var err error
	if r.Window, err = wireDuration("window", in.Window); err != nil {
		return r, err
	}
	if r.Renotify, err = wireDuration("renotify", in.Renotify); err != nil {
		return r, err
	}
	if m := in.Mute; m != nil {
		if m.Until != nil {
			r.Mute.Until = *m.Until
		}
		for _, d := range m.Daily {
			dr, err := alert.ParseDailyRange(d)
			if err != nil {
				return r, err
			}
			r.Mute.Daily = append(r.Mute.Daily, dr)
		}
		r.Mute.Location = m.Timezone
	}
	return r, nil
}

func wireDuration(field, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s %q: want a duration such as 1m, 30s or 1h", field, v)
	}
	return d, nil
}

func apiAlertRule(r alert.Rule) api.AlertRule {
	out := api.AlertRule{Name: r.Name, App: r.App, Kind: string(r.Kind), Query: r.Query, Preset: r.Preset, Metric: r.Metric,
		Agg: r.Agg, Window: r.Window.String(), Threshold: r.Threshold, Below: r.Below, For: r.For, Recover: r.Recover,
		GroupBy: r.GroupBy, Notify: r.Notify, Source: r.Source, Line: r.Line, Condition: r.Condition()}
	if r.Renotify > 0 {
		out.Renotify = r.Renotify.String()
	}
	if m := r.Mute; !m.Until.IsZero() || len(m.Daily) > 0 {
		out.Mute = &api.AlertMute{Timezone: m.Location, Until: timePtr(m.Until)}
		for _, d := range m.Daily {
			out.Mute.Daily = append(out.Mute.Daily, d.String())
		}
	}
	return out
}

func apiAlertStatus(st alert.Status) api.AlertStatus {
	out := api.AlertStatus{
		Rule: apiAlertRule(st.Rule), Created: st.Created, State: alert.StateOK, Groups: []api.AlertGroup{},
		Evaluated: st.Evaluated, EvaluatedAt: timePtr(st.EvaluatedAt), Waiting: st.Waiting, Excess: st.Excess,
		Muted: st.Muted, MutedUntil: timePtr(st.MutedUntil), LastError: st.LastError, LastErrorAt: timePtr(st.LastErrorAt),
		Delivered: st.Delivered, Failed: st.Failed, Dropped: st.Dropped, SearchURL: st.SearchURL,
	}
	if st.Evaluated > 0 {
		out.LastWindow = &api.AlertWindow{Start: st.LastWindow.Start, End: st.LastWindow.End}
	}
	rank := map[string]int{alert.StateFiring: 3, alert.StatePending: 2, alert.StateResolved: 1, alert.StateOK: 0}
	for _, g := range st.Groups {
		out.Groups = append(out.Groups, api.AlertGroup{Label: g.Label, Values: g.Values, State: g.State, Value: g.Value, NoData: g.NoData,
			Streak: g.Streak, Since: g.Since, FiringSince: timePtr(g.FiringSince), LastNotified: timePtr(g.LastNotified)})
		if rank[g.State] > rank[out.State] {
			out.State = g.State
		}
	}
	if d := st.LastDelivery; d != nil {
		out.LastDelivery = &api.AlertDelivery{Time: d.Time, Destination: d.Destination, Event: d.Event,
			NotificationID: d.NotificationID, OK: d.OK, Error: d.Error, Attempts: d.Attempts}
	}
	for _, p := range st.Outbox {
		out.Outbox = append(out.Outbox, api.AlertPending{Destination: p.Destination, Event: p.Event, Group: p.Group,
			Queued: p.Queued, Attempts: p.Attempts, NextAttempt: p.NextAttempt, LastError: p.LastError})
	}
	return out
}

func apiBacktest(bt alert.Backtest) api.AlertBacktest {
	out := api.AlertBacktest{Rule: bt.Rule, From: bt.From, To: bt.To, Windows: bt.Windows, Fired: bt.Fired,
		Resolved: bt.Resolved, StillFiring: bt.StillFiring, Events: make([]api.AlertBacktestEvent, 0, len(bt.Events))}
	for _, e := range bt.Events {
		out.Events = append(out.Events, api.AlertBacktestEvent{Window: api.AlertWindow{Start: e.Window.Start, End: e.Window.End},
			Group: e.Group, Event: e.Event, Value: e.Value, NoData: e.NoData})
	}
	return out
}

func apiWindow(w *alert.Window) *api.AlertWindow {
	if w == nil {
		return nil
	}
	return &api.AlertWindow{Start: w.Start, End: w.End}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
