package archive

import (
	"io/fs"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons an entry is skipped, the label of drainpipe_archive_entries_skipped_total.
const reasonStored = "already_stored"

// Reasons lines are deleted, the label of drainpipe_archive_rows_pruned_total.
const (
	pruneAge  = "age"
	pruneDisk = "disk"
)

// metrics are the archive's Prometheus collectors.
type metrics struct {
	linesWritten   prometheus.Counter
	entriesSkipped *prometheus.CounterVec
	writeDuration  prometheus.Histogram
	flushDuration  prometheus.Histogram
	settleFailed   prometheus.Counter
	rowsPruned     *prometheus.CounterVec
	daysPruned     *prometheus.CounterVec
	herokuDropped  *prometheus.CounterVec
	imported       prometheus.Counter
	cuts           *cutCounter
	diskBytes      prometheus.GaugeFunc
	rows           prometheus.GaugeFunc

	reg prometheus.Registerer
}

func newMetrics(a *Archive) *metrics {
	m := &metrics{
		linesWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "drainpipe", Subsystem: "archive", Name: "lines_written_total",
			Help: "Lines added to the archive: searchable at once, durable within archive.SettleEvery.",
		}),
		entriesSkipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "drainpipe", Subsystem: "archive", Name: "entries_skipped_total",
			Help: "Journal entries not stored, by reason: already_stored (delivered again after a crash; normal). Any other reason would be a loss to alert on.",
		}, []string{"reason"}),
		writeDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "drainpipe", Subsystem: "archive", Name: "write_duration_seconds",
			Help:    "Time to add one delivery of journal entries, until it is searchable (durable within archive.SettleEvery).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		flushDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "drainpipe", Subsystem: "archive", Name: "flush_duration_seconds",
			Help:    "Time to get the rows of the writes since the last barrier on disk (the barrier).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		settleFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "drainpipe", Subsystem: "archive", Name: "barrier_failures_total",
			Help: "Barriers that failed: the rows stay searchable, and the journal keeps their entries until a later barrier succeeds.",
		}),
		rowsPruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "drainpipe", Subsystem: "archive", Name: "rows_pruned_total",
			Help: "Lines deleted by retention, by reason: age (--retention) or disk (--archive-max-bytes).",
		}, []string{"reason"}),
		daysPruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "drainpipe", Subsystem: "archive", Name: "days_pruned_total",
			Help: "Days of lines deleted by retention, by reason: age or disk.",
		}, []string{"reason"}),
		herokuDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drainpipe_heroku_dropped_lines_total",
			Help: "Lines Heroku reported it dropped before they reached drainpipe (L10/L12/L13 lines, Logplex-Drop-Count/Lost-Count headers), per app.",
		}, []string{"app"}),
		imported: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "drainpipe", Subsystem: "archive", Name: "imported_lines_total",
			Help: "Lines imported from a SQLite archive (archive.db).",
		}),
		cuts: newCutCounter(),
		diskBytes: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "drainpipe", Subsystem: "archive", Name: "disk_bytes",
			Help: "Size on disk of the archive's files.",
		}, func() float64 { return float64(dirSize(a.cfg.Dir)) }),
		rows: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "drainpipe", Subsystem: "archive", Name: "rows",
			Help: "Rows the archive holds (a line longer than 512 KiB takes several).",
		}, func() float64 { ss := a.store.stats(); return float64(ss.RowsCount()) }),
	}
	for _, r := range []string{pruneAge, pruneDisk} {
		m.rowsPruned.WithLabelValues(r)
		m.daysPruned.WithLabelValues(r)
	}
	m.entriesSkipped.WithLabelValues(reasonStored)
	return m
}

func (m *metrics) skipped(reason string, n int) {
	m.entriesSkipped.WithLabelValues(reason).Add(float64(n))
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.linesWritten, m.entriesSkipped, m.writeDuration, m.flushDuration, m.settleFailed, m.rowsPruned,
		m.daysPruned, m.herokuDropped, m.imported, m.cuts.vec, m.diskBytes, m.rows}
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

// cutCounter counts the fields a line could not keep, by reason.
type cutCounter struct {
	vec      *prometheus.CounterVec
	byReason map[string]prometheus.Counter
}

func newCutCounter() *cutCounter {
	c := &cutCounter{
		vec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "drainpipe", Subsystem: "archive", Name: "fields_cut_total",
			Help: "Fields of messages and attributes not stored as fields (the message is always stored whole), by reason: count, key, value, vocabulary, duplicate.",
		}, []string{"reason"}),
		byReason: map[string]prometheus.Counter{},
	}
	for _, r := range []string{cutCount, cutKey, cutValue, cutVocabulary, cutDuplicate} {
		c.byReason[r] = c.vec.WithLabelValues(r)
	}
	return c
}

func (c *cutCounter) add(reason string, n int) { c.byReason[reason].Add(float64(n)) }

// dirSize is the size of the files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
