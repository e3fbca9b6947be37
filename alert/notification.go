package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/drainpipe/drainpipe/logsql/lex"
)

// The events a notification announces.
const (
	// EventFiring announces a group that started firing.
	EventFiring = "firing"
	// EventResolved announces that a firing group recovered (or its rule went away).
	EventResolved = "resolved"
	// EventRenotify repeats a firing notification after the rule's renotify interval.
	EventRenotify = "renotify"
)

// MaxSamples is the number of matching lines a firing notification carries, and
// maxSampleBytes the longest sample line (longer ones are cut, with "…").
const (
	MaxSamples     = 5
	maxSampleBytes = 1000
)

// Notification is what a destination is told. Its JSON form is the body of the
// generic webhook (see the README).
type Notification struct {
	// ID is the notification's own id: a retry of the same notification has the
	// same id, so a receiver can drop the copies that at-least-once delivery makes.
	ID string `json:"id"`
	// DedupeKey is the same for every notification of one rule and group: firing,
	// renotify and resolved of an incident, and of the next ones.
	DedupeKey string `json:"dedupe_key"`
	// Event is firing, resolved or renotify.
	Event string `json:"event"`
	Rule  string `json:"rule"`
	// App is the rule's app; "" for a rule over every app.
	App   string `json:"app,omitempty"`
	Kind  Kind   `json:"kind"`
	Query string `json:"query,omitempty"`
	// Metric and Agg are a metric rule's series and statistic.
	Metric string `json:"metric,omitempty"`
	Agg    string `json:"agg,omitempty"`
	// Condition is the rule's condition in words ("≥ 10 lines").
	Condition string `json:"condition"`
	// Group holds the group's field values; GroupLabel shows them as
	// "code=H12,dyno=web.1". Both empty for a rule without group_by.
	Group      map[string]string `json:"group,omitempty"`
	GroupLabel string            `json:"group_label,omitempty"`
	// Value is the count or metric value of the window that caused the notification.
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	// WindowStart and WindowEnd bound that window, by line time.
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	// FiringSince is the start of the first breaching window of the incident.
	FiringSince time.Time `json:"firing_since"`
	// Title is one short line ("[FIRING] h12 code=H12"); Summary says what happened
	// in a sentence.
	Title   string `json:"title"`
	Summary string `json:"summary"`
	// SearchURL opens the matching search (or metric graph) in drainpipe's UI over
	// the incident's windows; "" without --public-url.
	SearchURL string `json:"search_url,omitempty"`
	// Samples are up to MaxSamples matching lines of the window, newest first
	// (firing and renotify of match rules).
	Samples []Line `json:"samples,omitempty"`
	// Reason says why a group resolved: "recovered", "rule removed", "rule changed".
	// Only resolved notifications have one.
	Reason string `json:"reason,omitempty"`
	// Time is when the notification was made.
	Time time.Time `json:"time"`
}

// dedupeKey is stable per rule and group; PagerDuty's dedup_key takes 255 characters.
func dedupeKey(rule, label string) string {
	k := "drainpipe/" + rule
	if label != "" {
		k += "/" + label
	}
	if len(k) <= 200 && utf8.ValidString(k) {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return "drainpipe/" + rule + "/" + hex.EncodeToString(sum[:16])
}

// notificationID is the same for the same rule, group, event and window, so that a
// window evaluated again after a crash makes the same notification.
func notificationID(rule, key, event string, end time.Time, seq int) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{rule, key, event, end.UTC().Format(time.RFC3339Nano), strconv.Itoa(seq)}, "\x00")))
	return hex.EncodeToString(sum[:16])
}

// newNotification describes group g of rule r after window w.
func newNotification(r *Rule, g *GroupState, event, reason string, w Window, now time.Time, publicURL string) Notification {
	label := groupLabel(r.GroupBy, g.Values)
	n := Notification{
		ID:        notificationID(r.Name, groupKey(g.Values), event, w.End, g.Renotified),
		DedupeKey: dedupeKey(r.Name, label),
		Event:     event, Rule: r.Name, App: r.App, Kind: r.Kind, Query: r.Query, Metric: r.Metric, Agg: r.Agg,
		Condition: r.Condition(), GroupLabel: label, Value: g.Value, Threshold: r.Threshold,
		WindowStart: w.Start, WindowEnd: w.End, FiringSince: g.FiringSince, Reason: reason, Time: now,
	}
	if len(r.GroupBy) > 0 {
		n.Group = make(map[string]string, len(r.GroupBy))
		for i, f := range r.GroupBy {
			if i < len(g.Values) {
				n.Group[f] = g.Values[i]
			}
		}
	}
	n.Title = fmt.Sprintf("[%s] %s", strings.ToUpper(event), r.Name)
	if label != "" {
		n.Title += " " + label
	}
	n.Summary = summary(r, &n, g.NoData)
	n.SearchURL = searchURL(publicURL, r, n.Group, g.FiringSince, w.End)
	return n
}

// summary says what happened in one sentence.
func summary(r *Rule, n *Notification, noData bool) string {
	var what string
	switch {
	case r.Kind == Absence && n.Event != EventResolved:
		what = fmt.Sprintf("no line matching %s", r.Query)
	case r.Kind == Metric && noData:
		what = fmt.Sprintf("no %s sample of %s", r.Agg, r.Metric)
	case r.Kind == Metric:
		what = fmt.Sprintf("%s of %s = %s", r.Agg, r.Metric, strconv.FormatFloat(n.Value, 'g', 6, 64))
	default:
		what = fmt.Sprintf("%d lines matching %s", int64(n.Value), r.Query)
	}
	where := "every app"
	if r.App != "" {
		where = r.App
	}
	s := fmt.Sprintf("%s: %s in %s, %s – %s UTC", r.Name, what, where,
		n.WindowStart.UTC().Format("2006-01-02 15:04:05"), n.WindowEnd.UTC().Format("15:04:05"))
	if n.GroupLabel != "" {
		s += " (" + n.GroupLabel + ")"
	}
	switch n.Event {
	case EventResolved:
		s += "; resolved: " + n.Reason + ", firing since " + n.FiringSince.UTC().Format("2006-01-02 15:04:05") + " UTC"
	default:
		s += "; condition: " + r.Condition()
	}
	return s
}

// searchURL links to drainpipe's UI: the search of the rule's query over
// [from, to) for line rules, the metric's graph for metric rules. The UI reads:
//
//	PUBLIC/ui/search?app=APP&q=QUERY&from=RFC3339&to=RFC3339[&source=S][&dyno=D]
//	PUBLIC/ui/metrics?app=APP&name=SERIES&from=RFC3339&to=RFC3339[&source=S]
//
// app is absent for a rule over every app; a group's source and dyno become the
// search's own filters, its other fields `field:="value"` filters added to the query.
func searchURL(public string, r *Rule, group map[string]string, from, to time.Time) string {
	if public == "" {
		return ""
	}
	v := url.Values{}
	if r.App != "" {
		v.Set("app", r.App)
	}
	if app := group["app"]; app != "" {
		v.Set("app", app)
	}
	v.Set("from", from.UTC().Format(time.RFC3339))
	v.Set("to", to.UTC().Format(time.RFC3339))
	for _, f := range []string{"source", "dyno"} {
		if val, ok := group[f]; ok && val != "" {
			v.Set(f, val)
		}
	}
	if r.Kind == Metric {
		v.Set("name", r.Metric)
		return strings.TrimSuffix(public, "/") + "/ui/metrics?" + v.Encode()
	}
	var filters []string
	for _, f := range r.GroupBy {
		if f == "app" || f == "source" || f == "dyno" || group[f] == "" {
			continue
		}
		filters = append(filters, f+":="+strconv.Quote(group[f])) // LogsQL: the field equals the value
	}
	q := r.Query
	if len(filters) > 0 {
		if lex.OrOutside(q) {
			// AND binds tighter than OR in LogsQL: `H12 OR H13 code:="H13"` would
			// also match every H12 line.
			q = "(" + q + ")"
		}
		q = strings.TrimSpace(q + " " + strings.Join(filters, " "))
	}
	v.Set("q", q)
	return strings.TrimSuffix(public, "/") + "/ui/search?" + v.Encode()
}

// clipLine keeps a sample line short enough for every destination.
func clipLine(l Line) Line {
	if len(l.Message) > maxSampleBytes {
		cut := maxSampleBytes
		for cut > 0 && !utf8.RuneStart(l.Message[cut]) {
			cut--
		}
		l.Message = l.Message[:cut] + "…"
	}
	return l
}
