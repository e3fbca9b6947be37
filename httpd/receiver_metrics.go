package httpd

import (
	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/logplex"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the receiver. Labels are bounded: app names come only from drains
// an admin added, never from request data.
type receiverMetrics struct {
	requests      *prometheus.CounterVec
	lines         *prometheus.CounterVec
	malformed     *prometheus.CounterVec
	duplicates    prometheus.Counter
	badTimestamps prometheus.Counter
	bytes         prometheus.Counter
	countMismatch prometheus.Counter
}

func newReceiverMetrics(reg prometheus.Registerer) *receiverMetrics {
	m := &receiverMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_receiver_requests_total", Help: "Drain requests by HTTP status answered."}, []string{"code"}),
		lines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_receiver_lines_total", Help: "Lines accepted (journaled) per app."}, []string{"app"}),
		malformed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_receiver_malformed_lines_total", Help: "Frames that did not parse, stored raw and flagged malformed, per app."}, []string{"app"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_receiver_duplicate_batches_total", Help: "Retried batches acknowledged but stored once."}),
		badTimestamps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_receiver_bad_timestamps_total", Help: "Lines whose timestamp did not parse (their receive time is used)."}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_receiver_bytes_total", Help: "Body bytes received, after decompression."}),
		countMismatch: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_receiver_msg_count_mismatch_total", Help: "Batches whose Logplex-Msg-Count differed from the frames parsed."}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.lines, m.malformed, m.duplicates, m.badTimestamps, m.bytes, m.countMismatch)
	}
	return m
}

// accepted counts a journaled batch's lines. A retried batch that the journal
// recognised was counted when it first came: only the retry itself is counted.
func (m *receiverMetrics) accepted(app string, b *drainpipe.Batch, st logplex.Stats, duplicate bool) {
	if duplicate {
		m.duplicates.Inc()
		return
	}
	m.lines.WithLabelValues(app).Add(float64(len(b.Records)))
	m.badTimestamps.Add(float64(st.BadTimestamps))
	if st.Malformed > 0 {
		m.malformed.WithLabelValues(app).Add(float64(st.Malformed))
	}
}
