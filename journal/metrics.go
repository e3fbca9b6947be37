package journal

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the journal's Prometheus metrics. Sink lag and journal size are read
// from the server when scraped, so they are never stale.
type metrics struct {
	j               *Journal
	appendedLines   prometheus.Counter
	appendedBatches prometheus.Counter
	duplicates      prometheus.Counter
	full            prometheus.Counter
	unavailable     prometheus.Counter
	commitBatches   prometheus.Histogram
	commitSeconds   prometheus.Histogram
	delivered       *prometheus.CounterVec
	sinkErrors      *prometheus.CounterVec

	mu         sync.Mutex
	sinks      map[string]consumerOf // by consumer name: the consumers this node runs now
	lastErrors map[string]writeError // a sink's failed Write, until one succeeds

	lagDesc, bytesDesc, msgsDesc, pendingDesc *prometheus.Desc
}

func newMetrics(reg prometheus.Registerer, j *Journal) *metrics {
	m := &metrics{
		j: j,
		appendedLines: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_journal_appended_lines_total", Help: "Lines appended to the journal (acknowledged to senders)."}),
		appendedBatches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_journal_appended_batches_total", Help: "Batches appended to the journal."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_journal_duplicate_batches_total", Help: "Retried batches acknowledged without storing them again."}),
		full: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_journal_full_total", Help: "Appends refused because the journal reached its disk cap."}),
		unavailable: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_journal_unavailable_total", Help: "Appends that failed for another reason."}),
		commitBatches: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "drainpipe_journal_commit_batches", Help: "Batches coalesced into one journal write (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10)}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "drainpipe_journal_commit_seconds", Help: "Time from a group commit's start to the server's acknowledgement (fsync included).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_sink_delivered_lines_total", Help: "Lines a sink took from the journal (stored, or rejected and recorded)."}, []string{"sink"}),
		sinkErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_sink_write_errors_total", Help: "Failed sink writes; the entries are delivered again."}, []string{"sink"}),
		sinks:       make(map[string]consumerOf),
		lastErrors:  make(map[string]writeError),
		lagDesc:     prometheus.NewDesc("drainpipe_sink_lag_seconds", "Age of the oldest line a sink has not yet delivered (0 when caught up).", []string{"sink"}, nil),
		pendingDesc: prometheus.NewDesc("drainpipe_sink_pending_messages", "Journal messages a sink has not yet delivered.", []string{"sink"}, nil),
		bytesDesc:   prometheus.NewDesc("drainpipe_journal_bytes", "Bytes the journal holds on disk.", nil, nil),
		msgsDesc:    prometheus.NewDesc("drainpipe_journal_messages", "Messages the journal holds.", nil, nil),
	}
	if reg != nil {
		reg.MustRegister(m.appendedLines, m.appendedBatches, m.duplicates, m.full, m.unavailable,
			m.commitBatches, m.commitSeconds, m.delivered, m.sinkErrors, m)
	}
	return m
}

// consumerOf is a consumer this node runs, and the sink it delivers to.
type consumerOf struct {
	sink string
	c    jetstream.Consumer
}

func (m *metrics) addSink(consumer, sink string, c jetstream.Consumer) {
	m.mu.Lock()
	m.sinks[consumer] = consumerOf{sink: sink, c: c}
	m.mu.Unlock()
	m.delivered.WithLabelValues(sink)
	m.sinkErrors.WithLabelValues(sink)
}

func (m *metrics) removeSink(consumer string, c jetstream.Consumer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sinks[consumer].c == c {
		delete(m.sinks, consumer)
	}
}

func (m *metrics) observeCommit(batches, _ int, d time.Duration, err error) {
	m.commitBatches.Observe(float64(batches))
	m.commitSeconds.Observe(d.Seconds())
	if err != nil {
		if isFullErr(err) {
			m.full.Add(float64(batches))
		} else {
			m.unavailable.Add(float64(batches))
		}
	}
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.lagDesc
	ch <- m.pendingDesc
	ch <- m.bytesDesc
	ch <- m.msgsDesc
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if info, err := m.j.streamInfo(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(m.bytesDesc, prometheus.GaugeValue, float64(info.State.Bytes))
		ch <- prometheus.MustNewConstMetric(m.msgsDesc, prometheus.GaugeValue, float64(info.State.Msgs))
	}
	m.mu.Lock()
	sinks := make([]consumerOf, 0, len(m.sinks))
	for _, v := range m.sinks {
		sinks = append(sinks, v)
	}
	m.mu.Unlock()
	// A sink delivered through several consumers (the partitions this node owns)
	// shows its largest lag and its whole backlog.
	lags, backlog := map[string]time.Duration{}, map[string]uint64{}
	for _, c := range sinks {
		lag, pending, err := m.j.lag(ctx, c.c)
		if err != nil {
			continue
		}
		lags[c.sink] = max(lags[c.sink], lag)
		backlog[c.sink] += pending
	}
	for sink, lag := range lags {
		ch <- prometheus.MustNewConstMetric(m.lagDesc, prometheus.GaugeValue, lag.Seconds(), sink)
		ch <- prometheus.MustNewConstMetric(m.pendingDesc, prometheus.GaugeValue, float64(backlog[sink]), sink)
	}
}

// Lag is how far behind the named consumer (a sink's) is: the age of the oldest
// journal message it has not acknowledged, 0 when it has taken everything.
func (j *Journal) Lag(ctx context.Context, consumer string) (time.Duration, error) {
	c, err := j.stream.Consumer(ctx, consumer)
	if err != nil {
		return 0, fmt.Errorf("consumer %s: %w", consumer, err)
	}
	lag, _, err := j.lag(ctx, c)
	return lag, err
}

// lag is the age of the oldest message consumer c has not acknowledged.
func (j *Journal) lag(ctx context.Context, c jetstream.Consumer) (time.Duration, uint64, error) {
	info, err := c.Info(ctx)
	if err != nil {
		return 0, 0, err
	}
	pending := info.NumPending + uint64(info.NumAckPending)
	if pending == 0 {
		return 0, 0, nil
	}
	// Near the journal's end the time is known without reading the message (see
	// written); further back the message is read, from a block NATS has finished.
	if at, ok := j.written.timeOf(info.AckFloor.Stream+1, info.Config.FilterSubject); ok {
		return time.Since(at), pending, nil
	}
	var opts []jetstream.GetMsgOpt
	if f := info.Config.FilterSubject; f != "" {
		// The oldest message of the consumer's partition, not of the whole journal.
		opts = append(opts, jetstream.WithGetMsgSubject(f))
	}
	msg, err := j.stream.GetMsg(ctx, info.AckFloor.Stream+1, opts...)
	if err != nil {
		// The next message was removed (by age); the oldest left is the stream's first.
		si, serr := j.stream.Info(ctx)
		if serr != nil {
			return 0, pending, serr
		}
		return time.Since(si.State.FirstTime), pending, nil
	}
	return time.Since(msg.Time), pending, nil
}
