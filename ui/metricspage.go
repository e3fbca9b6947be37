package ui

import (
	"net/http"
	"time"

	"github.com/drainpipe/drainpipe/api"
)

type metricsView struct {
	Range   timeRange
	Presets []link
	Error   string
	// Name and Source narrow the page to one metric (and one dyno): the links
	// of metric alerts.
	Name, Source string
	// All is the page without them.
	All string
}

// metricsPage draws an app's metrics: GET /ui/metrics?app=&from=&to=. The
// graphs' data comes from /ui/data/metrics.
func (h *Handler) metricsPage(w http.ResponseWriter, r *http.Request, s *session) {
	v := h.newView(r, s, "metrics", "Metrics")
	mv := metricsView{Name: r.URL.Query().Get("name"), Source: r.URL.Query().Get("source")}
	mv.All = withParams(r, "app", v.App, "name", "", "source", "")
	var err error
	code := http.StatusOK
	if mv.Range, err = parseRange(r, "1h", h.cfg.Now()); err != nil {
		mv.Error, code = err.Error(), http.StatusBadRequest
	}
	for _, p := range presets {
		mv.Presets = append(mv.Presets, link{Label: p, URL: withParams(r, "app", v.App, "from", p, "to", ""), Current: p == mv.Range.Preset})
	}
	if v.App != "" {
		v.Title = v.App + " · metrics"
	}
	v.Data = mv
	v.Scripts = []string{"vendor/uplot/uPlot.iife.min.js", "metrics.js"}
	v.Wide = true
	h.pages.render(w, code, "metrics", v)
}

// metricsData answers the metrics page's script: GET /ui/data/metrics?app=&from=&to=
// gives the panels of the app's series over the window.
func (h *Handler) metricsData(w http.ResponseWriter, r *http.Request, _ *session) {
	app := r.URL.Query().Get("app")
	if app == "" {
		writeJSONError(w, http.StatusBadRequest, "app: name the app")
		return
	}
	tr, err := parseRange(r, "1h", h.cfg.Now())
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	step := chartStep(tr.Until.Sub(tr.Since), h.cfg.MetricsInterval)
	since := tr.Since.Truncate(step)
	n := int((tr.Until.Sub(since) + step - 1) / step)
	q := api.MetricsRangeQuery{Since: since, Until: since.Add(time.Duration(n) * step), Step: step}
	each, err := h.api.MetricsRange(r.Context(), app, q)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	q.MergeSources = true
	merged, err := h.api.MetricsRange(r.Context(), app, q)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	cd := buildCharts(since, step, n, merged, each)
	cd.only(r.URL.Query().Get("name"), r.URL.Query().Get("source"))
	writeJSON(w, http.StatusOK, cd)
}
