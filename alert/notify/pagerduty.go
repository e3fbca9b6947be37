package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe/alert"
)

// PagerDuty sends PagerDuty Events API v2 events
// (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/): a trigger
// for firing and renotify, a resolve for resolved, both with the rule and group's
// dedupe key as dedup_key, so one incident per rule and group opens and closes.
type PagerDuty struct {
	o        *Opener
	ep       endpoint
	key      string
	severity string
}

var routingKeyRe = regexp.MustCompile(`^[A-Za-z0-9]{20,64}$`)

// pagerDuty opens pagerduty://ROUTING_KEY[?severity=critical|error|warning|info]
// (default error).
func (o *Opener) pagerDuty(raw string) (*PagerDuty, error) {
	u, err := parse(raw, "pagerduty")
	if err != nil {
		return nil, err
	}
	key := u.Host
	if !routingKeyRe.MatchString(key) || (u.Path != "" && u.Path != "/") {
		return nil, errors.New("pagerduty destination: want pagerduty://ROUTING_KEY, the 32-character integration key of an Events API v2 integration")
	}
	sev := u.Query().Get("severity")
	switch sev {
	case "":
		sev = "error"
	case "critical", "error", "warning", "info":
	default:
		return nil, fmt.Errorf("pagerduty destination: severity %q: want critical, error, warning or info", sev)
	}
	name := "pagerduty://…" + key[len(key)-4:]
	if sev != "error" {
		name += "?severity=" + sev
	}
	return &PagerDuty{o: o, ep: endpoint{url: o.opt.PagerDutyURL, name: name, secrets: newSecrets(key)}, key: key, severity: sev}, nil
}

// String is the destination with all but the routing key's last 4 characters hidden.
func (p *PagerDuty) String() string { return p.ep.name }

// pdEvent is an Events API v2 event.
type pdEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"`
	DedupKey    string     `json:"dedup_key"`
	Payload     *pdPayload `json:"payload,omitempty"`
	Client      string     `json:"client,omitempty"`
	ClientURL   string     `json:"client_url,omitempty"`
	Links       []pdLink   `json:"links,omitempty"`
}

type pdPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

type pdLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// Send enqueues the event. PagerDuty answers 202 {"status": "success"}; 400 for an
// invalid event (refused for good), 429 when throttled, 5xx when it is having
// trouble (both retried).
func (p *PagerDuty) Send(ctx context.Context, n alert.Notification) error {
	ev := pdEvent{RoutingKey: p.key, EventAction: "trigger", DedupKey: n.DedupeKey}
	if n.Event == alert.EventResolved {
		ev.EventAction = "resolve"
	} else {
		ev.Payload = p.payload(n)
		ev.Client = "drainpipe"
		if n.SearchURL != "" {
			ev.ClientURL = n.SearchURL
			ev.Links = []pdLink{{Href: n.SearchURL, Text: "Matching lines in drainpipe"}}
		}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("%w: encode pagerduty event: %v", alert.ErrRejected, err)
	}
	answer, err := post(ctx, p.o.opt.HTTPClient, p.ep, body, nil)
	if err != nil {
		return err
	}
	var res struct{ Status string }
	if json.Unmarshal(answer, &res) != nil || res.Status != "success" {
		return fmt.Errorf("%s answered %s, not status success", p.ep.name, snippet(p.ep.scrub(string(answer))))
	}
	return nil
}

func (p *PagerDuty) payload(n alert.Notification) *pdPayload {
	source := "drainpipe"
	if n.App != "" {
		source += ": " + n.App
	}
	details := map[string]any{
		"rule": n.Rule, "kind": n.Kind, "condition": n.Condition, "value": n.Value, "threshold": n.Threshold,
		"window_start": n.WindowStart.UTC().Format(time.RFC3339), "window_end": n.WindowEnd.UTC().Format(time.RFC3339),
		"firing_since": n.FiringSince.UTC().Format(time.RFC3339), "event": n.Event, "notification_id": n.ID,
	}
	if n.Query != "" {
		details["query"] = n.Query
	}
	if n.Metric != "" {
		details["metric"], details["agg"] = n.Metric, n.Agg
	}
	if len(n.Group) > 0 {
		details["group"] = n.Group
	}
	if len(n.Samples) > 0 {
		lines := make([]string, len(n.Samples))
		for i, l := range n.Samples {
			lines[i] = l.Time.UTC().Format(time.RFC3339Nano) + " " + l.Source + "[" + l.Dyno + "]: " + l.Message
		}
		details["samples"] = lines
	}
	return &pdPayload{
		Summary: clip(n.Summary, 1024), Source: clip(source, 255), Severity: p.severity,
		Timestamp: n.WindowEnd.UTC().Format(time.RFC3339), Component: n.App, Group: n.Rule, Class: string(n.Kind),
		CustomDetails: details,
	}
}

// checkEndpoint refuses a PagerDuty endpoint that is not a URL.
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.TrimSpace(raw) != raw {
		return fmt.Errorf("pagerduty endpoint %q: want an https URL", raw)
	}
	return nil
}
