package notify_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/alert/notify"
)

// An Events API v2 event as PagerDuty documents it
// (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/).
type pdEvent struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     *struct {
		Summary       string         `json:"summary"`
		Source        string         `json:"source"`
		Severity      string         `json:"severity"`
		Timestamp     string         `json:"timestamp"`
		Component     string         `json:"component"`
		Group         string         `json:"group"`
		Class         string         `json:"class"`
		CustomDetails map[string]any `json:"custom_details"`
	} `json:"payload"`
	Images    []map[string]string           `json:"images"`
	Links     []struct{ Href, Text string } `json:"links"`
	Client    string                        `json:"client"`
	ClientURL string                        `json:"client_url"`
}

func (e *pdEvent) check(key string) error {
	switch {
	case e.RoutingKey != key:
		return errors.New("routing_key: not this integration's")
	case e.EventAction != "trigger" && e.EventAction != "acknowledge" && e.EventAction != "resolve":
		return errors.New("event_action: want trigger, acknowledge or resolve")
	case e.EventAction != "trigger" && e.DedupKey == "":
		return errors.New("dedup_key: required to acknowledge or resolve")
	case len(e.DedupKey) > 255:
		return errors.New("dedup_key: at most 255 characters")
	case e.EventAction != "trigger":
		return nil
	case e.Payload == nil:
		return errors.New("payload: required to trigger")
	case e.Payload.Summary == "" || utf8.RuneCountInString(e.Payload.Summary) > 1024:
		return errors.New("payload.summary: 1 to 1024 characters")
	case e.Payload.Source == "":
		return errors.New("payload.source: required")
	case !strings.Contains(" critical error warning info ", " "+e.Payload.Severity+" "):
		return errors.New("payload.severity: critical, error, warning or info")
	}
	if _, err := time.Parse(time.RFC3339, e.Payload.Timestamp); e.Payload.Timestamp != "" && err != nil {
		return errors.New("payload.timestamp: ISO 8601")
	}
	for _, l := range e.Links {
		if l.Href == "" {
			return errors.New("links: href required")
		}
	}
	return nil
}

// pdServer is the Events API v2 endpoint for one routing key.
type pdServer struct {
	key    string
	mu     sync.Mutex
	events []pdEvent
	status int
}

func (s *pdServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" || r.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if s.status != 0 {
		w.WriteHeader(s.status)
		fmt.Fprint(w, `{"status":"throttle event","message":"Requests for this service are arriving too quickly."}`)
		return
	}
	var ev pdEvent
	err := decodeStrict(r, &ev)
	if err == nil {
		err = ev.check(s.key)
	}
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": []string{err.Error()}})
		return
	}
	s.events = append(s.events, ev)
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
}

const routingKey = "R0UT1NGK3Y0123456789abcdef012345"

func TestPagerDuty(t *testing.T) {
	srv := &pdServer{key: routingKey}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	o := opener(t, notify.Options{PagerDutyURL: ts.URL + "/v2/enqueue"})
	d := open(t, o, "pagerduty://"+routingKey+"?severity=critical")
	if d.String() != "pagerduty://…2345?severity=critical" {
		t.Errorf("shown as %s", d)
	}
	n := sample()
	for _, ev := range []alert.Notification{n, resolved(n)} {
		if err := d.Send(t.Context(), ev); err != nil {
			t.Fatalf("%s: %v", ev.Event, err)
		}
	}
	if len(srv.events) != 2 {
		t.Fatalf("%d events", len(srv.events))
	}
	trig, res := srv.events[0], srv.events[1]
	if trig.EventAction != "trigger" || res.EventAction != "resolve" || trig.DedupKey != n.DedupeKey || res.DedupKey != n.DedupeKey {
		t.Errorf("trigger %s %s, resolve %s %s", trig.EventAction, trig.DedupKey, res.EventAction, res.DedupKey)
	}
	p := trig.Payload
	if p.Severity != "critical" || p.Source != "drainpipe: myapp" || p.Summary != n.Summary || p.Timestamp != "2026-05-01T10:01:00Z" ||
		len(p.CustomDetails["samples"].([]any)) != 5 || trig.Links[0].Href != n.SearchURL || trig.ClientURL != n.SearchURL {
		t.Errorf("trigger payload %+v, links %+v", p, trig.Links)
	}
	if res.Payload != nil {
		t.Errorf("resolve carries a payload")
	}
}

func TestPagerDutyErrors(t *testing.T) {
	srv := &pdServer{key: "SOMEONEELSESKEY0123456789abcdef0"}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	d := open(t, opener(t, notify.Options{PagerDutyURL: ts.URL + "/v2/enqueue"}), "pagerduty://"+routingKey)
	err := d.Send(t.Context(), sample())
	if !errors.Is(err, alert.ErrRejected) || !strings.Contains(err.Error(), "invalid event") {
		t.Errorf("invalid event: %v", err)
	}
	noSecret(t, err.Error(), routingKey)
	srv.status = http.StatusTooManyRequests
	if err := d.Send(t.Context(), sample()); err == nil || errors.Is(err, alert.ErrRejected) {
		t.Errorf("throttled: %v, want retryable", err)
	}
	srv.status = http.StatusInternalServerError
	if err := d.Send(t.Context(), sample()); err == nil || errors.Is(err, alert.ErrRejected) {
		t.Errorf("5xx: %v, want retryable", err)
	}
}
