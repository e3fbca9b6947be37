package otlp

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/drainpipe/drainpipe"
)

// Signal is a kind of OpenTelemetry data.
type Signal string

// The signals drainpipe receives.
const (
	Logs    Signal = "logs"
	Metrics Signal = "metrics"
)

// Journal is where accepted records go; Append returns once the batch is durable.
type Journal interface {
	Append(ctx context.Context, b *drainpipe.Batch) (duplicate bool, err error)
}

// Result is the outcome of an export that was journaled.
type Result struct {
	// Accepted counts the records journaled.
	Accepted int64
	// Rejected counts the records or data points refused; Message says why.
	Rejected int64
	Message  string
}

// ReceiverConfig configures a Receiver.
type ReceiverConfig struct {
	// Journal is required.
	Journal Journal
	// AppendTimeout bounds the wait for the journal; past it the export fails with
	// context.DeadlineExceeded and the sender is told to retry. Default 4 s, as for
	// logplex: OpenTelemetry exporters wait 10 s.
	AppendTimeout time.Duration
	// Now is the clock; default time.Now.
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Receiver journals OTLP exports for both transports.
type Receiver struct {
	cfg      ReceiverConfig
	requests *prometheus.CounterVec
	records  *prometheus.CounterVec
	rejected *prometheus.CounterVec
	foreign  *prometheus.CounterVec
}

// NewReceiver returns a Receiver with its counters registered on cfg.Registerer.
func NewReceiver(cfg ReceiverConfig) (*Receiver, error) {
	if cfg.AppendTimeout <= 0 {
		cfg.AppendTimeout = 4 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	rc := &Receiver{cfg: cfg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "drainpipe_otlp_requests_total",
			Help: "OTLP export requests by transport, signal and answer (HTTP status, or gRPC code)."}, []string{"transport", "signal", "code"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "drainpipe_otlp_records_total",
			Help: "OTLP log records and metric data points journaled, per app."}, []string{"app", "signal"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "drainpipe_otlp_rejected_total",
			Help: "OTLP log records and metric data points refused (a partial success), per app."}, []string{"app", "signal"}),
		foreign: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "drainpipe_otlp_foreign_app_records_total",
			Help: "OTLP records whose resource named another Heroku app than their drain's (kept under the drain's app)."}, []string{"app"}),
	}
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{rc.requests, rc.records, rc.rejected, rc.foreign} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("register OTLP metrics: %w", err)
			}
		}
	}
	return rc, nil
}

// ExportLogs journals the log records of ld for drain d.
func (rc *Receiver) ExportLogs(ctx context.Context, d drainpipe.Drain, ld plog.Logs) (Result, error) {
	now := rc.cfg.Now().UTC()
	return rc.journal(ctx, d, Logs, now, LogRecords(ld, d, now))
}

// ExportMetrics journals the data points of md for drain d.
func (rc *Receiver) ExportMetrics(ctx context.Context, d drainpipe.Drain, md pmetric.Metrics) (Result, error) {
	now := rc.cfg.Now().UTC()
	return rc.journal(ctx, d, Metrics, now, MetricRecords(md, d, now))
}

// journal appends the mapped records as one batch. An error is the journal's
// (drainpipe.ErrJournalFull, ErrUnavailable, or the context's), and means none of
// the records was accepted.
func (rc *Receiver) journal(ctx context.Context, d drainpipe.Drain, sig Signal, now time.Time, m Mapped) (Result, error) {
	if m.Rejected > 0 {
		rc.rejected.WithLabelValues(d.App, string(sig)).Add(float64(m.Rejected))
		rc.cfg.Logger.Debug("OTLP records rejected", "app", d.App, "signal", sig, "rejected", m.Rejected, "reason", m.Reason)
	}
	res := Result{Accepted: int64(len(m.Records)), Rejected: m.Rejected, Message: m.Reason}
	if len(m.Records) == 0 {
		return res, nil
	}
	ctx, cancel := context.WithTimeout(ctx, rc.cfg.AppendTimeout)
	defer cancel()
	b := &drainpipe.Batch{Drain: d.ID, App: d.App, Received: now, Records: m.Records}
	if _, err := rc.cfg.Journal.Append(ctx, b); err != nil {
		return Result{}, fmt.Errorf("journal OTLP %s: %w", sig, err)
	}
	rc.records.WithLabelValues(d.App, string(sig)).Add(float64(len(m.Records)))
	if m.Foreign > 0 {
		rc.foreign.WithLabelValues(d.App).Add(float64(m.Foreign))
	}
	return res, nil
}

// Answered counts a request answered by a transport ("http", "grpc") with code.
func (rc *Receiver) Answered(transport string, sig Signal, code int) {
	rc.requests.WithLabelValues(transport, string(sig), strconv.Itoa(code)).Inc()
}
