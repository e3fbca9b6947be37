package syslog

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drainpipe/drainpipe/internal/connlimit"
)

// metrics are the server's counters, registered on the Config's Registerer.
type metrics struct {
	connections  prometheus.Counter
	open         prometheus.Gauge
	lines        prometheus.Counter
	malformed    *prometheus.CounterVec
	unknownToken prometheus.Counter
	appendErrors prometheus.Counter
	lost         prometheus.Counter
	batches      prometheus.Counter
	readErrors   prometheus.Counter
	idleTimeouts prometheus.Counter
	cut          prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		connections: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_syslog_connections_total", Help: "Syslog connections accepted."}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "drainpipe_syslog_connections_open", Help: "Syslog connections open now."}),
		lines: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_syslog_lines_total", Help: "Syslog lines appended to the journal, malformed ones included."}),
		malformed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_syslog_malformed_lines_total",
			Help: "Syslog frames that did not parse; stored=false when the connection had no known drain to store them on."},
			[]string{"stored"}),
		unknownToken: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_syslog_unknown_token_lines_total", Help: "Syslog lines whose HOSTNAME names no drain, not stored."}),
		appendErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_syslog_append_errors_total", Help: "Failed journal appends, each retried while the connection waits."}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_syslog_lost_lines_total", Help: "Lines read but not appended because the shutdown's time was up."}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_syslog_batches_total", Help: "Batches appended to the journal."}),
		readErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_syslog_read_errors_total", Help: "Connections ended by a read or TLS error."}),
		idleTimeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_syslog_idle_timeouts_total", Help: "Connections closed for being idle."}),
		cut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_syslog_cut_connections_total",
			Help: "Connections still sending when the shutdown's time was up: closed with what they had sent unread."}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.connections, m.open, m.lines, m.malformed, m.unknownToken,
		m.appendErrors, m.lost, m.batches, m.readErrors, m.idleTimeouts, m.cut} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register syslog metrics: %w", err)
		}
	}
	return m, nil
}

// watch registers the connection cap's metrics.
func (m *metrics) watch(reg prometheus.Registerer, ln *connlimit.Listener, maxConns int) error {
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "drainpipe_syslog_connections_max",
			Help: "Syslog connections open at most."}, func() float64 { return float64(maxConns) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "drainpipe_syslog_connections_evicted_total",
			Help: "Quiet syslog connections closed at the cap to make room for new ones."}, func() float64 { return float64(ln.Evicted()) }),
	} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register syslog metrics: %w", err)
		}
	}
	return nil
}
