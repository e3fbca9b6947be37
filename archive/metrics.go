package archive

import (
	"os"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the archive's Prometheus collectors.
type metrics struct {
	linesWritten   prometheus.Counter
	entriesSkipped prometheus.Counter
	writeDuration  prometheus.Histogram
	rowsPruned     prometheus.Counter
	dbSize         prometheus.GaugeFunc
	herokuDropped  *prometheus.CounterVec

	reg prometheus.Registerer
}

func newMetrics(path string) *metrics {
	return &metrics{
		linesWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "drainpipe", Subsystem: "archive", Name: "lines_written_total",
			Help: "Lines stored in the archive.",
		}),
		entriesSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "drainpipe", Subsystem: "archive", Name: "entries_skipped_total",
			Help: "Journal entries delivered again and skipped because they were already stored.",
		}),
		writeDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "drainpipe", Subsystem: "archive", Name: "write_duration_seconds",
			Help:    "Time to store one delivery of journal entries, commit included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		rowsPruned: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "drainpipe", Subsystem: "archive", Name: "rows_pruned_total",
			Help: "Lines deleted by retention.",
		}),
		herokuDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_heroku_dropped_lines_total",
			Help: "Lines Heroku reported it dropped before they reached drainpipe (L10/L12/L13 lines, Logplex-Drop-Count/Lost-Count headers), per app.",
		}, []string{"app"}),
		dbSize: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "drainpipe", Subsystem: "archive", Name: "database_size_bytes",
			Help: "Size on disk of the archive database and its write-ahead log.",
		}, func() float64 { return float64(fileSize(path) + fileSize(path+"-wal")) }),
	}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.linesWritten, m.entriesSkipped, m.writeDuration, m.rowsPruned, m.dbSize, m.herokuDropped}
}

// register registers every collector on reg, or none of them.
func (m *metrics) register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	for i, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			for _, done := range m.collectors()[:i] {
				reg.Unregister(done)
			}
			return err
		}
	}
	m.reg = reg
	return nil
}

// unregister lets a later Open register the same metrics again.
func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors() {
		m.reg.Unregister(c)
	}
}
