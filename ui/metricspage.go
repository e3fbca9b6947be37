package ui

import "net/http"

type metricsView struct {
	Range   timeRange
	Presets []string
	Error   string
}

// metricsPage draws an app's metrics: GET /ui/metrics?app=&from=&to=.
func (h *Handler) metricsPage(w http.ResponseWriter, r *http.Request, s *session) {
	v := h.newView(r, s, "metrics", "Metrics")
	mv := metricsView{Presets: presets}
	var err error
	if mv.Range, err = parseRange(r, "1h", h.cfg.Now()); err != nil {
		mv.Error = err.Error()
	}
	v.Data = mv
	v.Scripts = []string{"vendor/uplot/uPlot.iife.min.js", "metrics.js"}
	v.Wide = true
	h.pages.render(w, http.StatusOK, "metrics", v)
}

// metricsData answers the metrics page's script: GET /ui/data/metrics?app=&from=&to=.
func (h *Handler) metricsData(w http.ResponseWriter, r *http.Request, s *session) {
	writeJSONError(w, http.StatusNotImplemented, "not yet")
}
