package alert

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// serviceMetrics are the alerts' Prometheus metrics.
type serviceMetrics struct {
	evaluated     *prometheus.CounterVec
	evalErrors    *prometheus.CounterVec
	notifications *prometheus.CounterVec
	deliveries    *prometheus.CounterVec
	gauges        *stateCollector
}

func newServiceMetrics(reg prometheus.Registerer, s *Service) (*serviceMetrics, error) {
	m := &serviceMetrics{
		evaluated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_alerts_windows_evaluated_total",
			Help: "Windows evaluated, per alert rule.",
		}, []string{"rule"}),
		evalErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_alerts_evaluation_errors_total",
			Help: "Failed evaluations (the window is evaluated again), per alert rule.",
		}, []string{"rule"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_alerts_notifications_total",
			Help: "Notifications made (firing, renotify, resolved), per alert rule; each goes to every destination of the rule.",
		}, []string{"rule", "event"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_alerts_deliveries_total",
			Help: "Delivery attempts by result: ok, error (retried), gave_up, dropped.",
		}, []string{"rule", "destination", "result"}),
		gauges: &stateCollector{s: s,
			groups:  prometheus.NewDesc("drainpipe_alerts_groups", "Groups of an alert rule by state.", []string{"rule", "state"}, nil),
			outbox:  prometheus.NewDesc("drainpipe_alerts_outbox", "Notifications waiting for delivery, per alert rule.", []string{"rule"}, nil),
			delay:   prometheus.NewDesc("drainpipe_alerts_evaluation_delay_seconds", "How far the last evaluated window's end is behind the clock, per alert rule.", []string{"rule"}, nil),
			overCap: prometheus.NewDesc("drainpipe_alerts_groups_over_cap", "Groups of the last window left out because the rule tracks at most 100.", []string{"rule"}, nil),
		},
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.evaluated, m.evalErrors, m.notifications, m.deliveries, m.gauges} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register alert metrics: %w", err)
		}
	}
	return m, nil
}

// forget drops a removed rule's series.
func (m *serviceMetrics) forget(rule string) {
	l := prometheus.Labels{"rule": rule}
	m.evaluated.DeletePartialMatch(l)
	m.evalErrors.DeletePartialMatch(l)
	m.notifications.DeletePartialMatch(l)
	m.deliveries.DeletePartialMatch(l)
}

// stateCollector reads the rules' states when scraped.
type stateCollector struct {
	s                              *Service
	groups, outbox, delay, overCap *prometheus.Desc
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.groups
	ch <- c.outbox
	ch <- c.delay
	ch <- c.overCap
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.s.cfg.Now()
	for _, e := range c.s.entries(true) {
		e.mu.Lock()
		st, name := e.state, e.rule.Name
		counts := map[string]int{StateOK: 0, StatePending: 0, StateFiring: 0, StateResolved: 0}
		for _, g := range st.Groups {
			counts[g.State]++
		}
		outbox, excess, next, removed := len(st.Outbox), st.Excess, st.Next, st.Removed
		e.mu.Unlock()
		ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(outbox), name)
		if removed {
			continue
		}
		for state, n := range counts {
			ch <- prometheus.MustNewConstMetric(c.groups, prometheus.GaugeValue, float64(n), name, state)
		}
		ch <- prometheus.MustNewConstMetric(c.delay, prometheus.GaugeValue, max(0, now.Sub(next).Seconds()), name)
		ch <- prometheus.MustNewConstMetric(c.overCap, prometheus.GaugeValue, float64(excess), name)
	}
}
