package ui

import "github.com/prometheus/client_golang/prometheus"

// uiMetrics are the UI's own Prometheus metrics.
type uiMetrics struct {
	logins  *prometheus.CounterVec
	refused *prometheus.CounterVec
	streams prometheus.Gauge
	lines   *prometheus.CounterVec
}

func newUIMetrics(reg prometheus.Registerer) *uiMetrics {
	m := &uiMetrics{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_ui_logins_total", Help: "Web UI login attempts by result (ok, refused, limited)."}, []string{"result"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_ui_refused_requests_total", Help: "Web UI changes refused: a missing or wrong CSRF token, or a cross-origin request."}, []string{"reason"}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "drainpipe_ui_tail_streams", Help: "Live tail streams open."}),
		lines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_ui_tail_lines_total", Help: "Lines that matched a live tail, by fate: sent, or left out of a sample."}, []string{"fate"}),
	}
	for _, r := range []string{"ok", "refused", "limited"} {
		m.logins.WithLabelValues(r)
	}
	for _, r := range []string{"csrf", "cross_origin"} {
		m.refused.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.logins, m.refused, m.streams, m.lines)
	}
	return m
}
