package httpd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/api"
)

// Alerts is the alert service as the admin API uses it.
type Alerts interface {
	List() []alert.Status
	Get(name string) (alert.Status, error)
	Add(ctx context.Context, r alert.Rule) (created bool, err error)
	// Create adds r only if no rule has its name (alert.ErrExists otherwise).
	Create(ctx context.Context, r alert.Rule) error
	Remove(ctx context.Context, name string) error
	Mute(ctx context.Context, name string, until time.Time) error
	History(name string, limit int) ([]alert.Event, error)
	Backtest(ctx context.Context, name string, since time.Time) (alert.Backtest, error)
}

// alertRoutes registers the alert endpoints (see package api).
func (s *Server) alertRoutes() {
	if s.cfg.Alerts == nil {
		return
	}
	s.mux.Handle("GET /api/alerts", s.admin(s.listAlerts))
	s.mux.Handle("POST /api/alerts", s.admin(s.addAlert))
	s.mux.Handle("GET /api/alerts/{name}", s.admin(s.getAlert))
	s.mux.Handle("DELETE /api/alerts/{name}", s.admin(s.removeAlert))
	s.mux.Handle("POST /api/alerts/{name}/mute", s.admin(s.muteAlert))
	s.mux.Handle("POST /api/alerts/{name}/test", s.admin(s.testAlert))
	s.mux.Handle("GET /api/alerts/{name}/history", s.admin(s.alertHistory))
	s.mux.Handle("GET /api/alert-presets", s.admin(s.alertPresets))
}

func (s *Server) listAlerts(w http.ResponseWriter, _ *http.Request) {
	out := []api.AlertStatus{}
	for _, st := range s.cfg.Alerts.List() {
		out = append(out, apiAlertStatus(st))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) {
	st, err := s.cfg.Alerts.Get(r.PathValue("name"))
	if err != nil {
		writeAlertError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, apiAlertStatus(st))
}

func (s *Server) addAlert(w http.ResponseWriter, r *http.Request) {
	var in api.AlertRule
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "request body: want an alert rule as JSON: "+err.Error())
		return
	}
	rule, err := alertRule(in)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	replace, err := replaceParam(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	created := true
	if replace {
		created, err = s.cfg.Alerts.Add(r.Context(), rule)
	} else {
		err = s.cfg.Alerts.Create(r.Context(), rule)
	}
	if err != nil {
		writeAlertError(w, err)
		return
	}
	// The log names the rule and its redacted destinations, never their URLs.
	st, err := s.cfg.Alerts.Get(rule.Name)
	if err != nil {
		writeAlertError(w, err)
		return
	}
	s.log.Info("alert rule stored", "rule", rule.Name, "created", created, "notify", st.Rule.Notify)
	out := apiAlertStatus(st)
	code := http.StatusCreated
	if !created {
		code, out.Replaced = http.StatusOK, true
	}
	writeJSON(w, code, out)
}

// replaceParam reads ?replace=: whether an add replaces an API rule of the same
// name (the default) or is refused.
func replaceParam(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("replace")
	if v == "" {
		return true, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("replace=%q: want true or false", v)
	}
	return b, nil
}

func (s *Server) removeAlert(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	st, err := s.cfg.Alerts.Get(name)
	if err == nil {
		err = s.cfg.Alerts.Remove(r.Context(), name)
	}
	if err != nil {
		writeAlertError(w, err)
		return
	}
	s.log.Info("alert rule removed", "rule", name)
	writeJSON(w, http.StatusOK, apiAlertStatus(st))
}

func (s *Server) muteAlert(w http.ResponseWriter, r *http.Request) {
	var in api.AlertMuteRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, `request body: want {"for": "2h"} or {"until": "RFC 3339 time"}`)
		return
	}
	now := s.cfg.Now()
	var until time.Time
	switch {
	case in.Until != nil && in.For == "":
		until = *in.Until
	case in.For != "" && in.Until == nil:
		d, err := time.ParseDuration(in.For)
		if err != nil || d < 0 || d > 366*24*time.Hour {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("for %q: want a duration such as 2h (0s unmutes), at most a year", in.For))
			return
		}
		if d > 0 {
			until = now.Add(d)
		}
	default:
		writeError(w, http.StatusBadRequest, `give "for" (a duration; "0s" unmutes) or "until", not both`)
		return
	}
	name := r.PathValue("name")
	if err := s.cfg.Alerts.Mute(r.Context(), name, until); err != nil {
		writeAlertError(w, err)
		return
	}
	s.getAlert(w, r)
}

func (s *Server) testAlert(w http.ResponseWriter, r *http.Request) {
	var in api.AlertTestRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, `request body: want {"since": "24h"}`)
		return
	}
	// The start as --since takes it everywhere: 24h, 7d, yesterday, a day, an
	// RFC 3339 time (api.ParseTime).
	since, err := api.Since(in.Since, s.cfg.Now())
	if err == nil && since.IsZero() {
		err = errors.New("want where the backtest starts (24h, 7d, yesterday, 2026-11-28T10:00:00Z)")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "since: "+err.Error())
		return
	}
	bt, err := s.cfg.Alerts.Backtest(r.Context(), r.PathValue("name"), since)
	if err != nil {
		writeAlertError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, apiBacktest(bt))
}

func (s *Server) alertHistory(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "limit: want a number of events")
			return
		}
		limit = n
	}
	name := r.PathValue("name")
	events, err := s.cfg.Alerts.History(name, limit)
	if err != nil {
		writeAlertError(w, err)
		return
	}
	out := api.AlertHistory{Rule: name, Events: make([]api.AlertEvent, 0, len(events))}
	for _, e := range events {
		out.Events = append(out.Events, api.AlertEvent{Time: e.Time, Type: e.Type, Window: apiWindow(e.Window), Group: e.Group,
			Value: e.Value, Destination: e.Destination, Detail: e.Detail})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) alertPresets(w http.ResponseWriter, _ *http.Request) {
	out := make([]api.AlertPreset, 0, len(alert.Presets))
	for _, p := range alert.Presets {
		out = append(out, api.AlertPreset{Name: p.Name, Description: p.Description, Query: p.Query, Threshold: p.Threshold, GroupBy: p.GroupBy})
	}
	writeJSON(w, http.StatusOK, out)
}

// writeAlertError answers an error of the alert service with its status.
func writeAlertError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, alert.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, alert.ErrReadOnly), errors.Is(err, alert.ErrExists):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, drainpipe.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}
