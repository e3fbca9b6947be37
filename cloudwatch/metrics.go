package cloudwatch

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// sinkName is the sink's durable consumer name and its metrics' sink label.
const sinkName = "cloudwatch"

// Reasons a line is rejected, as counted in drainpipe_sink_rejected_lines_total.
const (
	reasonTooOld  = "too_old"
	reasonTooNew  = "too_new"
	reasonExpired = "expired"
	reasonInvalid = "invalid"
)

type metrics struct {
	rejected *prometheus.CounterVec
	retries  prometheus.Counter
	calls    *prometheus.CounterVec
	failing  *prometheus.GaugeVec
	parked   prometheus.Counter
	overflow prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_sink_rejected_lines_total",
			Help: "Lines a sink's store refused for good, by reason; they remain in the local archive.",
		}, []string{"sink", "reason"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_cloudwatch_api_calls_total",
			Help: "CloudWatch Logs API calls by operation and outcome.",
		}, []string{"operation", "outcome"}),
		failing: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "drainpipe_cloudwatch_group_failing",
			Help: "1 while a log group fails with a permanent error and its lines are parked on disk.",
		}, []string{"group"}),
		parked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_cloudwatch_parked_lines_total",
			Help: "Lines written to the park of a failing log group, to be delivered once it works.",
		}),
		overflow: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_cloudwatch_overflow_lines_total",
			Help: "Lines sent to their drain's overflow group because the drain had created as many log groups as it may for now.",
		}),
	}
	retries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "drainpipe_sink_retries_total",
		Help: "Calls a sink retried after a transient fault.",
	}, []string{"sink"})
	if reg != nil {
		m.rejected = register(reg, m.rejected)
		retries = register(reg, retries)
		reg.MustRegister(m.calls, m.failing, m.parked, m.overflow)
	}
	m.retries = retries.WithLabelValues(sinkName)
	for _, r := range []string{reasonTooOld, reasonTooNew, reasonExpired, reasonInvalid} {
		m.rejected.WithLabelValues(sinkName, r) // export zeros, so rate() works from the start
	}
	return m
}

// register registers c, or returns the collector registered before it under the
// same name: the drainpipe_sink_* families are shared by every sink.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	if err != nil {
		panic(err)
	}
	return c
}
