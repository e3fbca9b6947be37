package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/httpd"
	"github.com/drainpipe/drainpipe/metrics"
)

// Defaults for the Config fields left zero.
const (
	// DefaultTimeout is the delivery budget of one batch: logplex gives up on a
	// request after 5 s, and a 503 it reads is one it retries.
	DefaultTimeout = 4 * time.Second
	// DefaultMargin is kept back from the invocation's deadline to answer.
	DefaultMargin = 500 * time.Millisecond
	// DefaultMaxBody is the largest body after decompression, as the server's.
	DefaultMaxBody = 8 << 20
)

// CloudWatch is where the function delivers: *cloudwatch.Sink in Inline mode.
type CloudWatch interface {
	Write(ctx context.Context, entries []drainpipe.Entry) error
	metrics.EMFWriter
}

// Config configures a Function.
type Config struct {
	// Drains authenticates requests; required.
	Drains *DrainSource
	// CloudWatch receives the lines and the EMF documents; required.
	CloudWatch CloudWatch
	// Metrics, when set, makes metrics of each batch's lines (its Interval is the
	// aggregation interval) and EMF shapes the documents; nil sends none.
	Metrics *metrics.Config
	EMF     metrics.EMFOptions
	// Dedup, when set, recognises retried batches by their Logplex-Frame-Id.
	Dedup Dedup
	// Timeout bounds the delivery of one batch; Margin is kept back from the
	// invocation's deadline. Defaults DefaultTimeout, DefaultMargin.
	Timeout, Margin time.Duration
	// MaxBody is the largest body after decompression; default DefaultMaxBody.
	MaxBody int64
	// Logger writes the function's own log (stdout in Lambda).
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Function is drainpipe as an AWS Lambda function: each invocation is one drain
// request, answered 2xx only once CloudWatch holds every line of its batch.
type Function struct {
	cfg     Config
	log     *slog.Logger
	journal *delivery
}

// New returns a Function. It starts nothing: all its work happens within Invoke.
func New(cfg Config) (*Function, error) {
	if cfg.Drains == nil || cfg.CloudWatch == nil {
		return nil, errors.New("lambda: Drains and CloudWatch are required")
	}
	cfg.Timeout = cmpOr(cfg.Timeout, DefaultTimeout)
	cfg.Margin = cmpOr(cfg.Margin, DefaultMargin)
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics != nil {
		if _, err := metrics.EMF(nil, cfg.EMF); err != nil {
			return nil, err
		}
	}
	f := &Function{cfg: cfg, log: cfg.Logger}
	f.journal = &delivery{cw: cfg.CloudWatch, metrics: cfg.Metrics, emf: cfg.EMF, dedup: cfg.Dedup, margin: cfg.Margin, log: cfg.Logger, now: cfg.Now}
	return f, nil
}

// Invoke handles one event: a Function URL or API Gateway HTTP API (payload
// 2.0) request. It answers as drainpipe's server answers POST /logs, within the
// invocation's deadline less the margin: what is not delivered by then is
// answered 503, so logplex retries it. Nothing it started runs on after it
// returns.
func (f *Function) Invoke(ctx context.Context, raw json.RawMessage) (Response, error) {
	if d, ok := ctx.Deadline(); ok {
		if left := time.Until(d); left <= f.cfg.Margin {
			// Every batch would be answered 503 unread: say why, where the
			// operator looks.
			f.log.ErrorContext(ctx, "the invocation has no time left after the margin: make the function's timeout longer than DRAINPIPE_LAMBDA_MARGIN, or lower the margin",
				"time_left", left.Round(time.Millisecond).String(), "margin", f.cfg.Margin.String())
			resp := answer(http.StatusServiceUnavailable, "the function has no time to deliver the batch; retry")
			resp.Headers["retry-after"] = "1"
			return resp, nil
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-f.cfg.Margin))
		defer cancel()
	}
	ev, err := decodeEvent(raw)
	if err != nil {
		f.log.ErrorContext(ctx, "not an HTTP event", "err", err)
		return answer(http.StatusBadRequest, err.Error()), nil
	}
	req, err := ev.request(ctx)
	if err != nil {
		f.log.WarnContext(ctx, "bad request", "err", err)
		return answer(http.StatusBadRequest, err.Error()), nil
	}
	f.cfg.Drains.Refresh(ctx)
	rec := newRecorder()
	httpd.NewReceiver(httpd.ReceiverConfig{
		Journal: f.journal, StoreName: "CloudWatch", Drains: f.cfg.Drains.For(ctx), MaxBody: f.cfg.MaxBody,
		AppendTimeout: f.cfg.Timeout, Logger: f.log, Now: f.cfg.Now,
	}).ServeHTTP(rec, req)
	resp := rec.response()
	if resp.StatusCode >= 400 && resp.StatusCode != http.StatusServiceUnavailable {
		f.log.InfoContext(ctx, "request refused", "status", resp.StatusCode, "answer", resp.Body)
	}
	return resp, nil
}
