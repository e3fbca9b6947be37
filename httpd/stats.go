package httpd

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/archive/query"
	"github.com/drainpipe/drainpipe/logsql"
)

// defaultStatsRange is the window the histogram and facets cover when the
// request gives no since: a whole archive is a long read for a summary.
const defaultStatsRange = 24 * time.Hour

// Limits of the histogram and facets.
const (
	maxTop       = 100  // series of a histogram split by a field
	maxFacetVals = 1000 // values listed per field
	maxFacets    = 20   // fields per request
)

// defaultFacets are the fields the facets endpoint counts when it is given none:
// what a Heroku user narrows by first.
var defaultFacets = []string{"source", "dyno", "status", "code", "method", "path"}

// statsSearch reads a request's search for the histogram and facets, with the
// default window; it answers the errors and returns ok false then.
func (s *Server) statsSearch(w http.ResponseWriter, r *http.Request) (logsql.Search, bool) {
	if !s.knownApp(w, r) {
		return logsql.Search{}, false
	}
	sr, err := s.searchOf(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return sr, false
	}
	if sr.Until.IsZero() {
		sr.Until = s.cfg.Now()
	}
	if sr.Since.IsZero() {
		sr.Since = sr.Until.Add(-defaultStatsRange)
	}
	if !sr.Since.Before(sr.Until) {
		writeError(w, http.StatusBadRequest, "since: want a time before until")
		return sr, false
	}
	return sr, true
}

// hits serves the number of lines per interval: step (default: about a
// hundred intervals), split by the values of the field by (top of them, the
// rest summed).
func (s *Server) hits(w http.ResponseWriter, r *http.Request) {
	sr, ok := s.statsSearch(w, r)
	if !ok {
		return
	}
	v := r.URL.Query()
	step := query.AutoStep(sr.Since, sr.Until)
	if st := v.Get("step"); st != "" {
		d, err := api.ParseSpan(st)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, "step: want a length of time such as 1m, 1h or 1d")
			return
		}
		step = d
	}
	top, err := intParam(r, "top", 10)
	if err != nil || top < 1 || top > maxTop {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("top: want a number from 1 to %d", maxTop))
		return
	}
	q, err := sr.Query(s.cfg.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := bounded(r)
	defer cancel()
	h, err := s.cfg.Reader.Hits(ctx, q, sr.Since, sr.Until, step, v.Get("by"), top)
	if err != nil {
		s.statsError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

// facets serves the most frequent values of fields (field=status&field=dyno;
// by default defaultFacets), limit of them per field.
func (s *Server) facets(w http.ResponseWriter, r *http.Request) {
	sr, ok := s.statsSearch(w, r)
	if !ok {
		return
	}
	fields := r.URL.Query()["field"]
	if len(fields) == 0 {
		fields = defaultFacets
	}
	if len(fields) > maxFacets {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("field: at most %d fields", maxFacets))
		return
	}
	limit, err := intParam(r, "limit", 10)
	if err != nil || limit < 1 || limit > maxFacetVals {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: want a number from 1 to %d", maxFacetVals))
		return
	}
	q, err := sr.Query(s.cfg.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := bounded(r)
	defer cancel()
	f, err := s.cfg.Reader.Facets(ctx, q, fields, limit)
	if err != nil {
		s.statsError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

// statsError answers a failed histogram or facets: 400 when the request asked
// for what cannot be (a step too short for its window), as readError otherwise.
func (s *Server) statsError(w http.ResponseWriter, err error) {
	if errors.Is(err, query.ErrBadStep) {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.readError(w, err)
}
