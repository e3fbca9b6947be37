package otlp

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
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
	// MaxDecoding is how many requests are decoded at once (see MaxRecords);
	// default GOMAXPROCS, at least 2: decoding is CPU-bound.
	MaxDecoding int
	// Now is the clock; default time.Now.
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Receiver journals OTLP exports for both transports.
type Receiver struct {
	cfg      ReceiverConfig
	slots    chan struct{} // decoding slots
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
	if cfg.MaxDecoding <= 0 {
		cfg.MaxDecoding = max(2, runtime.GOMAXPROCS(0))
	}
	rc := &Receiver{cfg: cfg, slots: make(chan struct{}, cfg.MaxDecoding),
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

// ExportLogsBody decodes an OTLP/HTTP logs request and journals its records. It
// waits for a decoding slot at most AppendTimeout, and lets the decoded request go
// before waiting for the journal. Errors wrap ErrBusy, ErrBadPayload, ErrTooLarge,
// or the journal's (drainpipe.ErrJournalFull, ErrUnavailable, context errors).
func (rc *Receiver) ExportLogsBody(ctx context.Context, d drainpipe.Drain, body []byte, enc Encoding) (Result, error) {
	return rc.exportBody(ctx, d, Logs, func(now time.Time) (Mapped, error) {
		ld, err := DecodeLogs(body, enc)
		if err == nil {
			err = checkLogs(ld)
		}
		if err != nil {
			return Mapped{}, err
		}
		return LogRecords(ld, d, now), nil
	})
}

// ExportMetricsBody is ExportLogsBody for a metrics request.
func (rc *Receiver) ExportMetricsBody(ctx context.Context, d drainpipe.Drain, body []byte, enc Encoding) (Result, error) {
	return rc.exportBody(ctx, d, Metrics, func(now time.Time) (Mapped, error) {
		md, err := DecodeMetrics(body, enc)
		if err == nil {
			err = checkMetrics(md)
		}
		if err != nil {
			return Mapped{}, err
		}
		return MetricRecords(md, d, now), nil
	})
}

// exportBody runs decode in a decoding slot, then journals what it made.
func (rc *Receiver) exportBody(ctx context.Context, d drainpipe.Drain, sig Signal, decode func(time.Time) (Mapped, error)) (Result, error) {
	release, err := rc.admitFor(ctx)
	if err != nil {
		return Result{}, err
	}
	m, err := decode(rc.cfg.Now().UTC())
	release()
	if err != nil {
		return Result{}, err
	}
	return rc.journal(ctx, d, sig, m)
}

// admitFor waits for a decoding slot at most AppendTimeout.
func (rc *Receiver) admitFor(ctx context.Context) (func(), error) {
	ctx, cancel := context.WithTimeout(ctx, rc.cfg.AppendTimeout)
	defer cancel()
	return rc.admit(ctx)
}

// ExportLogs journals the log records of ld, decoded already (by gRPC) for drain
// d. The decoding slot the call's context holds, if any, is given back once the
// records are made, before the wait for the journal.
func (rc *Receiver) ExportLogs(ctx context.Context, d drainpipe.Drain, ld plog.Logs) (Result, error) {
	err := checkLogs(ld)
	var m Mapped
	if err == nil {
		m = LogRecords(ld, d, rc.cfg.Now().UTC())
	}
	releaseSlot(ctx)
	if err != nil {
		return Result{}, err
	}
	return rc.journal(ctx, d, Logs, m)
}

// ExportMetrics journals the data points of md for drain d, as ExportLogs.
func (rc *Receiver) ExportMetrics(ctx context.Context, d drainpipe.Drain, md pmetric.Metrics) (Result, error) {
	err := checkMetrics(md)
	var m Mapped
	if err == nil {
		m = MetricRecords(md, d, rc.cfg.Now().UTC())
	}
	releaseSlot(ctx)
	if err != nil {
		return Result{}, err
	}
	return rc.journal(ctx, d, Metrics, m)
}

// journal appends the mapped records as one batch. An error is the journal's
// (drainpipe.ErrJournalFull, ErrUnavailable, or the context's), and means none of
// the records was accepted.
func (rc *Receiver) journal(ctx context.Context, d drainpipe.Drain, sig Signal, m Mapped) (Result, error) {
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
	b := &drainpipe.Batch{Drain: d.ID, App: d.App, Received: m.Records[0].Received, Records: m.Records}
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
