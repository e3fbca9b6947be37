package ui

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe/api"
)

type alertsView struct {
	Rules   []api.AlertStatus
	Presets []api.AlertPreset
	// Off says the server runs no alerts (the endpoints answer 404).
	Off bool
	// Form is the add form, filled again when it was refused.
	Form  alertForm
	Error string
	// Removed names the rule just removed.
	Removed string
	// Exists names the rule the add form was refused for, as its name is taken.
	Exists string
}

// alertForm is the add form's fields.
type alertForm struct {
	Name, App, Preset, Query, Threshold, Window, GroupBy, Notify string
}

// stateOrder puts the rules that need a look first.
var stateOrder = []string{"firing", "pending", "resolved", "ok"}

// alertsPage lists the alert rules with their state per group: GET /ui/alerts.
func (h *Handler) alertsPage(w http.ResponseWriter, r *http.Request, s *session) {
	h.renderAlerts(w, r, s, http.StatusOK, alertForm{Window: "1m"}, "")
}

func (h *Handler) renderAlerts(w http.ResponseWriter, r *http.Request, s *session, code int, form alertForm, msg string) {
	h.renderAlertsView(w, r, s, code, alertsView{Form: form, Error: msg})
}

// renderAlertsView renders the alerts page with av's form and messages, and the
// rules as they are now.
func (h *Handler) renderAlertsView(w http.ResponseWriter, r *http.Request, s *session, code int, av alertsView) {
	v := h.newView(r, s, "alerts", "Alerts")
	av.Removed = r.URL.Query().Get("removed")
	rules, err := h.api.Alerts(r.Context())
	var se *api.StatusError
	switch {
	case errors.As(err, &se) && se.Code == http.StatusNotFound:
		av.Off = true
	case err != nil:
		h.failed(w, r, s, "list the alert rules", err)
		return
	}
	slices.SortStableFunc(rules, func(a, b api.AlertStatus) int {
		return slices.Index(stateOrder, a.State) - slices.Index(stateOrder, b.State)
	})
	av.Rules = rules
	if !av.Off {
		av.Presets, _ = h.api.AlertPresets(r.Context())
	}
	if av.Form.App == "" {
		av.Form.App = v.App
	}
	v.Data = av
	h.pages.render(w, code, "alerts", v)
}

type alertView struct {
	Status  api.AlertStatus
	History []api.AlertEvent
	// Backtest is the result of "test against the last 24 h", when asked.
	Backtest *api.AlertBacktest
	// TestSpan is the span the test covers ("24h"), Shortened set when that is
	// less than 24 h: the most windows of the rule one backtest takes.
	TestSpan  string
	Shortened bool
	// MaxWindows is the most windows one backtest takes.
	MaxWindows int
	Error      string
	// Mutes are the durations the mute form offers.
	Mutes []string
}

// maxBacktestWindows is alert.MaxBacktestWindows, the most windows the API's
// backtest evaluates (more is refused): the package map lets ui import only api
// and metrics, so the number is repeated here, and a test holds it to alert's.
const maxBacktestWindows = 10000

// testSpan is how far back "test against the last 24 h" goes for a rule of
// windows of window: 24 h, or the most windows a backtest takes when 24 h holds
// more. The backtest starts at the window holding the start and ends by the
// last window ready (before now), so it evaluates at most that many.
func testSpan(window string) (span time.Duration, shortened bool) {
	span = 24 * time.Hour
	if w, err := time.ParseDuration(window); err == nil && w > 0 && w < span/maxBacktestWindows {
		return w * maxBacktestWindows, true
	}
	return span, false
}

// alertPage shows one rule, its groups and history: GET /ui/alerts/{name}.
func (h *Handler) alertPage(w http.ResponseWriter, r *http.Request, s *session) {
	h.renderAlert(w, r, s, http.StatusOK, nil, "")
}

func (h *Handler) renderAlert(w http.ResponseWriter, r *http.Request, s *session, code int, bt *api.AlertBacktest, msg string) {
	name := r.PathValue("name")
	st, err := h.api.Alert(r.Context(), name)
	if err != nil {
		h.failed(w, r, s, "find the alert rule "+strconv.Quote(name), err)
		return
	}
	hist, err := h.api.AlertHistory(r.Context(), name, 200)
	if err != nil {
		h.failed(w, r, s, "read the rule's history", err)
		return
	}
	slices.Reverse(hist.Events) // newest first
	v := h.newView(r, s, "alerts", name+" · alert")
	if st.Rule.App != "" && st.Rule.App != "*" {
		v.App = st.Rule.App
	}
	span, shortened := testSpan(st.Rule.Window)
	v.Data = alertView{Status: st, History: hist.Events, Backtest: bt, Error: msg, Mutes: []string{"1h", "4h", "24h", "7d"},
		TestSpan: shortGoDuration(span.String()), Shortened: shortened, MaxWindows: maxBacktestWindows}
	h.pages.render(w, code, "alert", v)
}

// muteAlert mutes a rule for a while, or unmutes it with for=0s:
// POST /ui/alerts/{name}/mute.
func (h *Handler) muteAlert(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	d := r.PostFormValue("for")
	if days, ok := strings.CutSuffix(d, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil {
			d = strconv.Itoa(n*24) + "h"
		}
	}
	if _, err := h.api.MuteAlert(r.Context(), name, api.AlertMuteRequest{For: d}); err != nil {
		h.renderAlert(w, r, s, statusOf(err), nil, err.Error())
		return
	}
	h.log.Info("ui: alert muted", "rule", name, "for", d, "user", s.user)
	http.Redirect(w, r, "/ui/alerts/"+url.PathEscape(name), http.StatusSeeOther)
}

// testAlert backtests a rule over the last 24 hours, notifying no one: POST
// /ui/alerts/{name}/test. A rule of windows so short that 24 hours hold more
// than a backtest takes is tested over the most it takes (testSpan), and the
// page says so.
func (h *Handler) testAlert(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	st, err := h.api.Alert(r.Context(), name)
	if err != nil {
		h.failed(w, r, s, "find the alert rule "+strconv.Quote(name), err)
		return
	}
	span, _ := testSpan(st.Rule.Window)
	bt, err := h.api.TestAlert(r.Context(), name, api.AlertTestRequest{Since: span.String()})
	if err != nil {
		h.renderAlert(w, r, s, statusOf(err), nil, "The test failed: "+err.Error())
		return
	}
	h.renderAlert(w, r, s, http.StatusOK, &bt, "")
}

// removeAlert removes a rule made through the API: POST /ui/alerts/{name}/remove.
func (h *Handler) removeAlert(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	if _, err := h.api.RemoveAlert(r.Context(), name); err != nil {
		h.renderAlert(w, r, s, statusOf(err), nil, err.Error())
		return
	}
	h.log.Info("ui: alert removed", "rule", name, "user", s.user)
	http.Redirect(w, r, "/ui/alerts?removed="+url.QueryEscape(name), http.StatusSeeOther)
}

// addAlert adds a rule from the form, from a preset or a query: POST /ui/alerts.
func (h *Handler) addAlert(w http.ResponseWriter, r *http.Request, s *session) {
	f := alertForm{Name: r.PostFormValue("name"), App: r.PostFormValue("app"), Preset: r.PostFormValue("preset"),
		Query: r.PostFormValue("query"), Threshold: r.PostFormValue("threshold"), Window: r.PostFormValue("window"),
		GroupBy: r.PostFormValue("group_by"), Notify: r.PostFormValue("notify")}
	rule := api.AlertRule{Name: strings.TrimSpace(f.Name), App: f.App, Preset: f.Preset, Query: strings.TrimSpace(f.Query), Window: f.Window}
	if f.Threshold != "" {
		t, err := strconv.ParseFloat(f.Threshold, 64)
		if err != nil {
			h.renderAlerts(w, r, s, http.StatusBadRequest, f, "Threshold: want a number.")
			return
		}
		rule.Threshold = t
	}
	for _, g := range strings.Split(f.GroupBy, ",") {
		if g = strings.TrimSpace(g); g != "" {
			rule.GroupBy = append(rule.GroupBy, g)
		}
	}
	rule.Notify = append(rule.Notify, strings.Fields(f.Notify)...)
	// The form adds only (the UI has no replace flow, and a replaced rule's
	// firing groups would be resolved): a name taken, on any node and however
	// recently, is refused with the way to the existing rule.
	st, err := h.api.CreateAlert(r.Context(), rule)
	if statusOf(err) == http.StatusConflict {
		if old, gerr := h.api.Alert(r.Context(), rule.Name); gerr == nil {
			h.refuseTaken(w, r, s, f, old)
			return
		}
	}
	if err != nil {
		h.renderAlerts(w, r, s, statusOf(err), f, err.Error())
		return
	}
	h.log.Info("ui: alert added", "rule", st.Rule.Name, "user", s.user)
	http.Redirect(w, r, "/ui/alerts/"+url.PathEscape(st.Rule.Name), http.StatusSeeOther)
}

// refuseTaken refuses the add form, as typed, for a name the rule old has.
func (h *Handler) refuseTaken(w http.ResponseWriter, r *http.Request, s *session, f alertForm, old api.AlertStatus) {
	name := strconv.Quote(old.Rule.Name)
	msg := "A rule named " + name + " already exists, and adding this one would replace it. " +
		"Choose another name, or remove the existing rule on its page first, then add this one."
	if old.Rule.Source == "file" {
		where := "the alerts file"
		if old.Rule.Line > 0 {
			where += ", line " + strconv.Itoa(old.Rule.Line)
		}
		msg = "A rule named " + name + " already exists in " + where + ". Choose another name, or edit the rule in the alerts file."
	}
	h.renderAlertsView(w, r, s, http.StatusConflict, alertsView{Form: f, Error: msg, Exists: old.Rule.Name})
}

// statusOf is the status of an API error answer, or 502.
func statusOf(err error) int {
	var se *api.StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	return http.StatusBadGateway
}
