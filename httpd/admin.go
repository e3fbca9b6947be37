package httpd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/metrics"
)

func (s *Server) addDrain(w http.ResponseWriter, r *http.Request) {
	var req api.AddDrainRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "request body: want {\"app\": \"NAME\"}")
		return
	}
	d, secret, err := drainpipe.NewDrain(req.App, s.cfg.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	d.CloudWatchGroup = req.CloudWatchGroup
	stored, created, err := s.cfg.Drains.Add(r.Context(), d)
	if err == nil && !created && req.CloudWatchGroup != "" && stored.CloudWatchGroup != req.CloudWatchGroup {
		stored.CloudWatchGroup = req.CloudWatchGroup
		err = s.cfg.Drains.Update(r.Context(), stored)
	}
	if err != nil {
		s.log.Error("add drain", "app", req.App, "err", err)
		writeError(w, http.StatusInternalServerError, "could not store the drain: "+err.Error())
		return
	}
	if !created {
		secret = "" // the existing drain's secret was shown once, when it was made
	}
	out, err := s.apiDrain(r, stored, secret)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out.Existing = !created
	code := http.StatusCreated
	if !created {
		code = http.StatusOK
	} else {
		s.log.Info("drain added", "app", stored.App, "drain", stored.ID)
	}
	writeJSON(w, code, out)
}

func (s *Server) listDrains(w http.ResponseWriter, r *http.Request) {
	out := []api.Drain{}
	statuses := s.sinkStatuses(r.Context())
	for _, d := range s.cfg.Drains.List() {
		ad, err := s.apiDrainWith(r, d, "", statuses)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		out = append(out, ad)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getDrain(w http.ResponseWriter, r *http.Request) {
	d, ok := s.drainOf(w, r)
	if !ok {
		return
	}
	s.writeDrain(w, r, d)
}

func (s *Server) removeDrain(w http.ResponseWriter, r *http.Request) {
	d, ok := s.drainOf(w, r)
	if !ok {
		return
	}
	if err := s.cfg.Drains.Remove(r.Context(), d.ID); err != nil && !errors.Is(err, drainpipe.ErrNotFound) {
		writeError(w, http.StatusInternalServerError, "could not remove the drain: "+err.Error())
		return
	}
	s.log.Info("drain removed", "app", d.App, "drain", d.ID)
	s.writeDrain(w, r, d)
}

// setHeroku records the drain's registration on Heroku (made by the CLI with the
// user's own Heroku API key, which the server never sees). A drain has one
// registration: the same one again is a no-op, another one is a 409 saying how to
// change it (the one recorded still delivers, so replacing it would lose its lines
// or leave it behind on Heroku).
func (s *Server) setHeroku(w http.ResponseWriter, r *http.Request) {
	d, ok := s.drainOf(w, r)
	if !ok {
		return
	}
	var h drainpipe.HerokuDrain
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&h); err != nil || h.Token == "" {
		writeError(w, http.StatusBadRequest, "request body: want {\"id\": \"...\", \"token\": \"d.<uuid>\"}")
		return
	}
	if d.Heroku != nil {
		if d.Heroku.Token != h.Token {
			writeError(w, http.StatusConflict, herokuRegistered(d, h))
			return
		}
		if d.Heroku.ID != "" || h.ID == "" {
			s.writeDrain(w, r, d) // the registration it has: nothing to store
			return
		}
	}
	d.Heroku = &h
	if err := s.cfg.Drains.Update(r.Context(), d); errors.Is(err, drainpipe.ErrConflict) {
		writeError(w, http.StatusConflict, err.Error())
		return
	} else if err != nil {
		writeError(w, http.StatusInternalServerError, "could not store the registration: "+err.Error())
		return
	}
	s.writeDrain(w, r, d)
}

// herokuRegistered refuses to give d, registered on Heroku already, registration h.
func herokuRegistered(d drainpipe.Drain, h drainpipe.HerokuDrain) string {
	cur := d.Heroku.Token
	how := "made by drainpipe, so `drainpipe drains remove " + d.App + "` removes it on Heroku too"
	if d.Heroku.ID == "" {
		how = "recorded with --heroku-token, so remove it on Heroku yourself: heroku drains:remove " + cur + " -a " + d.App
	}
	return fmt.Sprintf("the drain of %s is registered already as Heroku drain %s (%s), so %s is refused: a drain has one Heroku registration, "+
		"and the one it has still delivers. To change it, remove the drain first (`drainpipe drains remove %s`), then add it again with the new one",
		d.App, cur, how, h.Token, d.App)
}

// writeDrain answers with d as the admin API shows it (without its secret).
func (s *Server) writeDrain(w http.ResponseWriter, r *http.Request, d drainpipe.Drain) {
	out, err := s.apiDrain(r, d, "")
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// drainOf finds the drain of the request's {app}, answering 404 when there is none.
func (s *Server) drainOf(w http.ResponseWriter, r *http.Request) (drainpipe.Drain, bool) {
	app := r.PathValue("app")
	d, ok := s.cfg.Drains.ByApp(app)
	if !ok {
		writeError(w, http.StatusNotFound, "no drain for app "+strconv.Quote(app)+": add one with `drainpipe drains add "+app+"`")
	}
	return d, ok
}

// apiDrain is d as the admin API shows it, with its stored-line counts and the
// sinks' status of its app.
func (s *Server) apiDrain(r *http.Request, d drainpipe.Drain, secret string) (api.Drain, error) {
	return s.apiDrainWith(r, d, secret, s.sinkStatuses(r.Context()))
}

// sinkStatuses asks every sink for its status once: a listing of many drains
// shares the answer (a sink's status may cost a round trip to the journal).
func (s *Server) sinkStatuses(ctx context.Context) map[string]SinkStatus {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out := make(map[string]SinkStatus, len(s.cfg.Sinks))
	for _, sink := range s.cfg.Sinks {
		out[sink.Name()] = sink.Status(ctx)
	}
	return out
}

func (s *Server) apiDrainWith(r *http.Request, d drainpipe.Drain, secret string, statuses map[string]SinkStatus) (api.Drain, error) {
	u, err := drainpipe.DrainURL(s.cfg.PublicURL, d.ID, secret)
	if err != nil {
		return api.Drain{}, err
	}
	out := api.Drain{ID: d.ID, App: d.App, URL: u, Created: d.Created, CloudWatchGroup: d.CloudWatchGroup, Heroku: d.Heroku}
	now := s.cfg.Now()
	for name, st := range statuses {
		if out.Sinks == nil {
			out.Sinks = map[string]string{}
		}
		out.Sinks[name] = st.forApp(d.App, now)
	}
	if s.cfg.Archive != nil {
		st, err := s.cfg.Archive.Stats(r.Context(), d.App)
		if err != nil {
			return api.Drain{}, err
		}
		out.Lines, out.Malformed, out.DroppedByHeroku = st.Lines, st.Malformed, st.Dropped
		if !st.Last.IsZero() {
			last := st.Last
			out.LastLine = &last
		}
	}
	return out, nil
}

// knownApp answers 404 for an app with neither a drain nor stored lines, so a
// mistyped name gets a sentence instead of an empty answer.
func (s *Server) knownApp(w http.ResponseWriter, r *http.Request) bool {
	app := r.PathValue("app")
	if _, ok := s.cfg.Drains.ByApp(app); ok {
		return true
	}
	st, err := s.cfg.Archive.Stats(r.Context(), app)
	if err == nil && st.Lines > 0 {
		return true
	}
	writeError(w, http.StatusNotFound, "no app "+strconv.Quote(app)+": it has no drain and no stored lines (`drainpipe drains list` shows the apps)")
	return false
}

// writeJSON answers v as JSON with code. It encodes first: a value JSON cannot
// hold (a non-finite number) is a 500 that says so, not a 2xx with a body cut
// short.
func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		buf.Reset()
		code = http.StatusInternalServerError
		_ = json.NewEncoder(&buf).Encode(api.Error{Error: "encode the answer: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, api.Error{Error: msg})
}

// metricsHistory serves `drainpipe metrics`: one series per (name, source),
// merged over the window (default the last hour).
func (s *Server) metricsHistory(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Metrics == nil {
		writeError(w, http.StatusNotFound, "metrics are off on this server (--metrics=false)")
		return
	}
	if !s.knownApp(w, r) {
		return
	}
	since, err := timeParam(r, "since")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if since.IsZero() {
		since = s.cfg.Now().Add(-time.Hour)
	}
	until, err := timeParam(r, "until")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if until.IsZero() {
		until = s.cfg.Now().Add(time.Minute)
	}
	series, err := s.cfg.Metrics.Query(r.Context(), r.PathValue("app"), since, until, r.URL.Query().Get("name"))
	if err != nil {
		s.log.Error("metrics query failed", "err", err)
		writeError(w, http.StatusInternalServerError, "metrics query failed: "+err.Error())
		return
	}
	if series == nil {
		series = []metrics.Series{}
	}
	writeJSON(w, http.StatusOK, series)
}
