package cloudwatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/drainpipe/drainpipe/internal/backoff"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"golang.org/x/time/rate"
)

// permanentError is a failure that retrying cannot fix: the group gets parked.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// errStopped tells a stream to stop because another stream of its group failed.
var errStopped = errors.New("group stopped")

// delivery is one group's events on their way, by stream, with how far each
// stream has got, so that a retry resumes where the last attempt stopped.
type delivery struct {
	streams []*streamWork
}

type streamWork struct {
	name    string
	batches [][]event
	done    int // batches delivered
}

// newDelivery sorts and cuts each stream's events into batches.
func newDelivery(streams map[string][]event) *delivery {
	d := &delivery{}
	for _, name := range slices.Sorted(maps.Keys(streams)) {
		d.streams = append(d.streams, &streamWork{name: name, batches: batches(streams[name])})
	}
	return d
}

// undelivered returns what is left to deliver, in the order the lines arrived.
func (d *delivery) undelivered() []parkRecord {
	type rec struct {
		ord int
		r   parkRecord
	}
	var left []rec
	for _, sw := range d.streams {
		for _, b := range sw.batches[sw.done:] {
			for _, e := range b {
				left = append(left, rec{e.ord, parkRecord{Stream: sw.name, App: e.app, TS: e.ts, Msg: e.msg, Line: e.line}})
			}
		}
	}
	slices.SortStableFunc(left, func(a, b rec) int { return cmp.Compare(a.ord, b.ord) })
	out := make([]parkRecord, len(left))
	for i := range left {
		out[i] = left[i].r
	}
	return out
}

// deliver sends a group's streams concurrently, each stream's batches in order.
// It returns nil once all are delivered, the permanent error that stopped the group
// (the other streams stop at their next batch), or ctx's error.
func (s *Sink) deliver(ctx context.Context, g *group, d *delivery) error {
	var (
		wg      sync.WaitGroup
		stop    atomic.Bool
		errOnce sync.Once
		failure error
	)
	for _, sw := range d.streams {
		if sw.done == len(sw.batches) {
			continue
		}
		wg.Go(func() {
			select {
			case s.sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-s.sem }()
			for sw.done < len(sw.batches) {
				err := s.putBatch(ctx, g, sw.name, sw.batches[sw.done], &stop)
				if err != nil {
					if errors.As(err, new(*permanentError)) {
						stop.Store(true)
						errOnce.Do(func() { failure = err })
					}
					return
				}
				sw.done++
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if failure != nil {
		return failure
	}
	for _, sw := range d.streams {
		if sw.done < len(sw.batches) { // a stream stopped without saying why: never report it delivered
			return &permanentError{fmt.Errorf("stream %s: %d batches undelivered", sw.name, len(sw.batches)-sw.done)}
		}
	}
	return nil
}

// putBatch delivers one batch: it creates the group and the stream when the put
// says they are missing, retries transient faults until ctx ends, splits a batch
// the service refuses as invalid, and counts the events it rejects.
func (s *Sink) putBatch(ctx context.Context, g *group, stream string, evs []event, stop *atomic.Bool) error {
	b := s.backoff(s.cfg.BackoffMax)
	created := false
	for {
		if stop.Load() {
			return errStopped
		}
		made := g.creations()
		out, err := s.put(ctx, g.name, stream, evs)
		if err == nil {
			s.accepted(ctx, g, evs, out.RejectedLogEventsInfo)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch classify(err) {
		case kindGroupMissing, kindStreamMissing:
			if created { // created, yet not there: the service is catching up
				if err := s.retryWait(ctx, &b); err != nil {
					return err
				}
			}
			if err := s.create(ctx, g, stream, classify(err), made); err != nil {
				if errors.As(err, new(*permanentError)) || ctx.Err() != nil {
					return err
				}
				// Gone again while being created (deleted meanwhile): start over.
				if err := s.retryWait(ctx, &b); err != nil {
					return err
				}
				continue
			}
			created = true
		case kindInvalid:
			return s.putInvalid(ctx, g, stream, evs, err, stop)
		case kindPermanent:
			return &permanentError{fmt.Errorf("put log events: %w", err)}
		default:
			if err := s.retryWait(ctx, &b); err != nil {
				return err
			}
		}
	}
}

// putInvalid handles a batch the service refused as a whole: halves are retried
// on their own until the one event at fault is found and counted as invalid.
func (s *Sink) putInvalid(ctx context.Context, g *group, stream string, evs []event, cause error, stop *atomic.Bool) error {
	if len(evs) == 1 && strings.Contains(strings.ToLower(describe(cause)), "too large") && len(evs[0].msg) >= 2*utf8.UTFMax {
		// The per-event limit is smaller than thought (it was 256 KB until 2025):
		// split the event rather than lose the line.
		e := evs[0]
		cut := len(e.msg) / 2
		for !utf8.RuneStart(e.msg[cut]) {
			cut--
		}
		second := e
		e.msg, second.msg, second.line = e.msg[:cut], e.msg[cut:], false
		return s.putInvalid(ctx, g, stream, []event{e, second}, cause, stop)
	}
	if len(evs) == 1 {
		s.log.Warn("cloudwatch refused an event", "group", g.name, "stream", stream, "err", describe(cause))
		s.reject(ctx, reasonInvalid, evs[0])
		s.rejects.flush(ctx, false)
		return nil
	}
	half := len(evs) / 2
	if err := s.putBatch(ctx, g, stream, evs[:half], stop); err != nil {
		return err
	}
	return s.putBatch(ctx, g, stream, evs[half:], stop)
}

func (s *Sink) put(ctx context.Context, group, stream string, evs []event) (*cloudwatchlogs.PutLogEventsOutput, error) {
	in := &cloudwatchlogs.PutLogEventsInput{
		LogGroupName:  aws.String(group),
		LogStreamName: aws.String(stream),
		LogEvents:     make([]types.InputLogEvent, len(evs)),
	}
	for i := range evs {
		in.LogEvents[i] = types.InputLogEvent{Message: &evs[i].msg, Timestamp: &evs[i].ts}
	}
	var out *cloudwatchlogs.PutLogEventsOutput
	err := s.call(ctx, "PutLogEvents", s.limits.put, func(ctx context.Context) (err error) {
		out, err = s.client.PutLogEvents(ctx, in)
		return err
	})
	return out, err
}

// accepted records a batch the service answered: the events it refused are
// counted and logged, and the group's retention is enforced once it is known to exist.
func (s *Sink) accepted(ctx context.Context, g *group, evs []event, info *types.RejectedLogEventsInfo) {
	reason := rejectedReasons(len(evs), info)
	for i := range evs {
		if r := reason(i); r != "" {
			s.reject(ctx, r, evs[i])
		}
	}
	s.rejects.flush(ctx, false)
	if s.cfg.RetentionDays != 0 && g.needsRetention() {
		if s.cfg.Inline {
			s.retainInline(ctx, g)
			return
		}
		select {
		case s.retention <- g:
		default:
			g.retentionFailed() // queue full: try again after the next put
		}
	}
}

// reject counts a line the service will never store.
func (s *Sink) reject(ctx context.Context, reason string, e event) {
	if s.cfg.Inline {
		s.keepRejected(ctx, reason, e)
	}
	if !e.line {
		return // the rest of a split line: counted with its first event
	}
	s.metrics.rejected.WithLabelValues(sinkName, reason).Inc()
	s.rejects.add(reason, e.app, e.ts)
}

// create makes what a put found missing. Either a group or a stream may be gone,
// whatever the put said first; someone else creating it first is success. made is
// the group's creations() before the put.
func (s *Sink) create(ctx context.Context, g *group, stream string, missing errKind, made uint64) error {
	if missing == kindStreamMissing {
		err := s.createStream(ctx, g.name, stream)
		if err == nil || classify(err) != kindGroupMissing {
			return err
		}
	}
	if err := s.createGroup(ctx, g, made); err != nil {
		return err
	}
	return s.createStream(ctx, g.name, stream)
}

// createGroup creates g, one call at a time per group in this process (the log
// writer and the EMF writer find a new app's group missing together): a writer
// that waited while another created it, after its own put had failed, does not
// call again.
func (s *Sink) createGroup(ctx context.Context, g *group, made uint64) error {
	g.createMu.Lock()
	defer g.createMu.Unlock()
	if g.creations() != made {
		return nil
	}
	if !g.mayCreate() {
		return &permanentError{errOverBudget}
	}
	in := &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g.name)}
	if s.cfg.KMSKeyID != "" {
		in.KmsKeyId = aws.String(s.cfg.KMSKeyID)
	}
	if len(s.cfg.Tags) > 0 {
		in.Tags = s.cfg.Tags
	}
	in.LogGroupClass = types.LogGroupClass(s.cfg.LogClass)
	err := s.retry(ctx, "CreateLogGroup", s.limits.group, func(ctx context.Context) error {
		_, err := s.client.CreateLogGroup(ctx, in)
		return err
	})
	if err == nil || classify(err) == kindExists {
		g.created() // a new group has no retention yet
		return nil
	}
	return s.createFailed(ctx, "create log group", err)
}

func (s *Sink) createStream(ctx context.Context, group, stream string) error {
	in := &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}
	err := s.retry(ctx, "CreateLogStream", s.limits.stream, func(ctx context.Context) error {
		_, err := s.client.CreateLogStream(ctx, in)
		return err
	})
	if err == nil || classify(err) == kindExists {
		return nil
	}
	if classify(err) == kindGroupMissing {
		return err
	}
	return s.createFailed(ctx, "create log stream", err)
}

// createFailed turns what ended a create into the error of the put that needed it.
func (s *Sink) createFailed(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return &permanentError{fmt.Errorf("%s: %w", what, err)}
}

// retry calls f until it succeeds, fails for good, or ctx ends.
func (s *Sink) retry(ctx context.Context, op string, lim *rate.Limiter, f func(context.Context) error) error {
	b := s.backoff(s.cfg.BackoffMax)
	for {
		err := s.call(ctx, op, lim, f)
		if err == nil || ctx.Err() != nil || classify(err) != kindTransient {
			return err
		}
		if err := s.retryWait(ctx, &b); err != nil {
			return err
		}
	}
}

func (s *Sink) retryWait(ctx context.Context, b *backoff.Backoff) error {
	s.metrics.retries.Inc()
	return b.Wait(ctx)
}

// call makes one API call within its rate limit and counts its outcome.
func (s *Sink) call(ctx context.Context, op string, lim *rate.Limiter, f func(context.Context) error) error {
	if err := lim.Wait(ctx); err != nil {
		return err
	}
	err := f(ctx)
	s.metrics.calls.WithLabelValues(op, outcome(err)).Inc()
	s.lastErr.note(ctx, op, err)
	return err
}

func (s *Sink) backoff(max time.Duration) backoff.Backoff {
	return backoff.Backoff{Min: s.cfg.BackoffMin, Max: max}
}
