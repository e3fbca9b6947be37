package lambda

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/metrics"
)

// ErrBusy means another invocation is delivering the same batch (logplex tried
// again while the first try was still running): answered 503, so the batch
// comes once more, to be recognised as delivered or delivered then.
var ErrBusy = errors.New("the same batch is being delivered by another invocation")

// Dedup remembers, by a key of the sender's (drain id and Logplex-Frame-Id),
// which batches were delivered, so a retry of one is answered without
// delivering it again.
type Dedup interface {
	// Claim takes key for one delivery until the claim expires at until. It
	// reports done when the batch was delivered before, and ErrBusy while
	// another live claim holds it.
	Claim(ctx context.Context, key string, until time.Time) (done bool, err error)
	// Done records the batch as delivered.
	Done(ctx context.Context, key string) error
	// Release gives up a claim whose delivery failed, so the retry may deliver.
	Release(ctx context.Context, key string) error
}

// delivery is the receiver's journal in a Lambda: it delivers each batch to
// CloudWatch before it returns, then the batch's metrics as EMF.
type delivery struct {
	cw      CloudWatch
	metrics *metrics.Config
	emf     metrics.EMFOptions
	dedup   Dedup
	margin  time.Duration
	log     *slog.Logger
	now     func() time.Time
}

// Append delivers b; duplicate reports a retried batch delivered before. An
// error means some line may not be in CloudWatch: the receiver answers 503.
func (d *delivery) Append(ctx context.Context, b *drainpipe.Batch) (duplicate bool, err error) {
	start := d.now()
	key, claimed := "", false
	if d.dedup != nil && b.Key != "" {
		key = b.Drain + "/" + b.Key
		done, err := d.claim(ctx, key)
		switch {
		case done:
			d.log.InfoContext(ctx, "retried batch already delivered", "app", b.App, "key", b.Key)
			return true, nil
		case errors.Is(err, ErrBusy):
			return false, err
		}
		claimed = err == nil
	}
	if err := d.cw.Write(ctx, []drainpipe.Entry{{Batches: []drainpipe.Batch{*b}}}); err != nil {
		if claimed {
			d.release(ctx, key)
		}
		d.log.ErrorContext(ctx, "batch not delivered to CloudWatch; answered 503 so the sender retries",
			"app", b.App, "lines", len(b.Records), "ms", d.now().Sub(start).Milliseconds(), "err", err)
		return false, fmt.Errorf("deliver to cloudwatch: %w", err)
	}
	d.putMetrics(ctx, b)
	if claimed {
		d.done(ctx, key)
	}
	d.log.InfoContext(ctx, "batch delivered", "app", b.App, "lines", len(b.Records), "ms", d.now().Sub(start).Milliseconds())
	return false, nil
}

// claim asks the dedup store; a store that fails is logged and bypassed: the
// batch is delivered, at worst twice, rather than refused.
func (d *delivery) claim(ctx context.Context, key string) (bool, error) {
	until := d.now().Add(time.Minute)
	if dl, ok := ctx.Deadline(); ok {
		until = dl.Add(d.margin) // the invocation is over by then
	}
	done, err := d.dedup.Claim(ctx, key, until)
	if err != nil && !errors.Is(err, ErrBusy) {
		d.log.WarnContext(ctx, "de-duplication unavailable; the batch is delivered without it", "err", err)
	}
	return done, err
}

// release and done use what the margin left, so that a claim is settled even
// when delivery ran to the deadline.
func (d *delivery) release(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.margin/2)
	defer cancel()
	if err := d.dedup.Release(ctx, key); err != nil {
		d.log.WarnContext(ctx, "de-duplication claim not released; a retry within the invocation's timeout is answered 503", "err", err)
	}
}

func (d *delivery) done(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.margin/2)
	defer cancel()
	if err := d.dedup.Done(ctx, key); err != nil {
		d.log.WarnContext(ctx, "de-duplication not recorded; a retry of this batch would be delivered again", "err", err)
	}
}

// putMetrics sends the metrics of b's lines as EMF documents into its app's
// group, within the invocation. Metrics are derived data: a failure is logged
// and the batch is still answered as delivered (the lines are in CloudWatch).
func (d *delivery) putMetrics(ctx context.Context, b *drainpipe.Batch) {
	if d.metrics == nil {
		return
	}
	agg, err := metrics.NewAggregator(*d.metrics) // one per batch: nothing is carried over
	if err != nil {
		d.log.ErrorContext(ctx, "metrics", "err", err)
		return
	}
	for _, r := range b.Records {
		if !r.Malformed {
			_ = agg.AddRecord(r) // failures are counted by the aggregator
		}
	}
	intervals := agg.Flush(endOfTime)
	if len(intervals) == 0 {
		return
	}
	docs, err := metrics.EMF(intervals, d.emf)
	if err != nil {
		d.log.WarnContext(ctx, "some intervals cannot be sent as EMF", "app", b.App, "err", err)
	}
	if len(docs) == 0 {
		return
	}
	if err := d.cw.PutEMF(ctx, b.App, docs); err != nil {
		d.log.WarnContext(ctx, "metrics of the batch not sent; its lines are delivered", "app", b.App, "documents", len(docs), "err", err)
	}
}

// endOfTime closes every interval: a line's timestamp is never past year 9999.
var endOfTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
