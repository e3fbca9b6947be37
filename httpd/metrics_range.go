package httpd

import (
	"net/http"
	"time"

	"github.com/drainpipe/drainpipe/metrics"
)

// metricsRange serves graphs: an app's series step by step over a window (default
// the last hour, in 120 steps), per source or with merge=sources merged.
func (s *Server) metricsRange(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Metrics == nil {
		writeError(w, http.StatusNotFound, "metrics are off on this server (--metrics=false)")
		return
	}
	if !s.knownApp(w, r) {
		return
	}
	q := metrics.RangeQuery{App: r.PathValue("app"), NamePrefix: r.URL.Query().Get("name")}
	var err error
	if q.Since, err = timeParam(r, "since"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if q.Until, err = timeParam(r, "until"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	now := s.cfg.Now()
	if q.Since.IsZero() {
		q.Since = now.Add(-time.Hour)
	}
	if q.Until.IsZero() {
		q.Until = now
	}
	if !q.Since.Before(q.Until) {
		writeError(w, http.StatusBadRequest, "since must be before until")
		return
	}
	q.Step = max(q.Until.Sub(q.Since)/120, time.Second).Round(time.Second)
	if v := r.URL.Query().Get("step"); v != "" {
		if q.Step, err = time.ParseDuration(v); err != nil || q.Step < time.Second || q.Until.Sub(q.Since)/q.Step > metrics.MaxRangePoints {
			writeError(w, http.StatusBadRequest, "step: want a duration of at least 1s, and at most 5000 steps in the window")
			return
		}
	}
	switch r.URL.Query().Get("merge") {
	case "":
	case "sources":
		q.MergeSources = true
	default:
		writeError(w, http.StatusBadRequest, "merge: want sources, or nothing for one series per source")
		return
	}
	series, err := s.cfg.Metrics.Range(r.Context(), q)
	if err != nil {
		s.log.Error("metrics range query failed", "err", err)
		writeError(w, http.StatusInternalServerError, "metrics query failed: "+err.Error())
		return
	}
	if series == nil {
		series = []metrics.RangeSeries{}
	}
	writeJSON(w, http.StatusOK, series)
}
