package ui

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/drainpipe/drainpipe/api"
)

type drainsView struct {
	Drains []api.Drain
	// Sinks are the sinks' lag and failures, from the registry.
	Sinks []sinkState
	// Removed names the app whose drain was just removed.
	Removed string
}

type sinkState struct {
	Name         string
	LagSeconds   float64
	Pending      float64
	WriteErrors  float64
	LagKnown     bool
	Behind, Warn bool
}

// sinkStates reads every sink's lag, pending messages and failed writes.
func sinkStates(g gathered) []sinkState {
	var out []sinkState
	names := g.labelValues("drainpipe_sink_delivered_lines_total", "sink")
	for _, n := range g.labelValues("drainpipe_sink_lag_seconds", "sink") {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, name := range names {
		st := sinkState{Name: name}
		st.LagSeconds, st.LagKnown = g.value("drainpipe_sink_lag_seconds", "sink", name)
		st.Pending, _ = g.value("drainpipe_sink_pending_messages", "sink", name)
		st.WriteErrors, _ = g.value("drainpipe_sink_write_errors_total", "sink", name)
		st.Warn = st.LagSeconds > 10
		st.Behind = st.LagSeconds > 60
		out = append(out, st)
	}
	return out
}

// drainsPage lists the drains: GET /ui/drains.
func (h *Handler) drainsPage(w http.ResponseWriter, r *http.Request, s *session) {
	h.apps.forget()
	ds, err := h.apps.list(r)
	if err != nil {
		h.failed(w, r, s, "list the drains", err)
		return
	}
	v := h.newView(r, s, "drains", "Drains")
	v.Data = drainsView{Drains: ds, Sinks: sinkStates(gather(h.cfg.Gatherer)), Removed: r.URL.Query().Get("removed")}
	h.pages.render(w, http.StatusOK, "drains", v)
}

type addedView struct {
	Drain api.Drain
	// Command is the Heroku CLI command that registers the drain.
	Command string
	Error   string
	App     string
}

// addDrain adds a drain: POST /ui/drains (app, cloudwatch_group). The answer
// shows the drain URL with its secret, once; it is never stored or cached.
func (h *Handler) addDrain(w http.ResponseWriter, r *http.Request, s *session) {
	app := strings.TrimSpace(r.PostFormValue("app"))
	d, err := h.api.AddDrain(r.Context(), api.AddDrainRequest{App: app, CloudWatchGroup: strings.TrimSpace(r.PostFormValue("cloudwatch_group"))})
	h.apps.forget()
	v := h.newView(r, s, "drains", "Drain for "+app)
	v.App = app
	code := http.StatusOK
	av := addedView{Drain: d, App: app}
	var se *api.StatusError
	switch {
	case errors.As(err, &se) && se.Code < 500:
		code, av.Error = se.Code, se.Message
	case err != nil:
		h.failed(w, r, s, "add the drain", err)
		return
	case !d.Existing:
		code = http.StatusCreated
		av.Command = "heroku drains:add '" + d.URL + "' -a " + d.App
		h.log.Info("ui: drain added", "app", d.App, "user", s.user)
	}
	v.Data = av
	h.pages.render(w, code, "drain-added", v)
}

type removeView struct {
	Drain api.Drain
	Error string
}

// removeDrainPage asks to confirm a removal: GET /ui/drains/{app}/remove.
func (h *Handler) removeDrainPage(w http.ResponseWriter, r *http.Request, s *session) {
	h.renderRemove(w, r, s, http.StatusOK, "")
}

func (h *Handler) renderRemove(w http.ResponseWriter, r *http.Request, s *session, code int, msg string) {
	d, err := h.api.Drain(r.Context(), r.PathValue("app"))
	if err != nil {
		h.failed(w, r, s, "find the drain", err)
		return
	}
	v := h.newView(r, s, "drains", "Remove the drain of "+d.App)
	v.App = d.App
	v.Data = removeView{Drain: d, Error: msg}
	h.pages.render(w, code, "drain-remove", v)
}

// removeDrain removes a drain once its app's name was typed again:
// POST /ui/drains/{app}/remove (confirm=APP).
func (h *Handler) removeDrain(w http.ResponseWriter, r *http.Request, s *session) {
	app := r.PathValue("app")
	if r.PostFormValue("confirm") != app {
		h.renderRemove(w, r, s, http.StatusUnprocessableEntity, "Type the app's name exactly to confirm.")
		return
	}
	if _, err := h.api.RemoveDrain(r.Context(), app); err != nil {
		h.failed(w, r, s, "remove the drain", err)
		return
	}
	h.apps.forget()
	h.log.Info("ui: drain removed", "app", app, "user", s.user)
	http.Redirect(w, r, "/ui/drains?removed="+url.QueryEscape(app), http.StatusSeeOther)
}
