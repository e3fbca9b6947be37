package cloudwatch

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// inlineFailed is what a group that fails for good is with no park to fall back
// on (Inline): an error of this Write, which the caller answers as "not
// delivered" so that the sender tries again.
func (s *Sink) inlineFailed(ctx context.Context, g *group, d *delivery, err error) error {
	s.log.ErrorContext(ctx, "cloudwatch group fails; its lines were not delivered",
		"group", g.name, "lines", len(d.undelivered()), "err", describe(err))
	return fmt.Errorf("group %s: %w", g.name, err)
}

// retainInline applies the retention to a group within the Write that reached
// it, with one call: a delivered batch is never held up, or failed, by its
// retention. A transient failure is tried again at the group's next put; a
// permanent one (no logs:PutRetentionPolicy) is logged once per process.
func (s *Sink) retainInline(ctx context.Context, g *group) {
	in := &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(g.name), RetentionInDays: aws.Int32(s.cfg.RetentionDays)}
	err := s.call(ctx, "PutRetentionPolicy", s.limits.retention, func(ctx context.Context) error {
		_, err := s.client.PutRetentionPolicy(ctx, in)
		return err
	})
	switch {
	case err == nil:
	case ctx.Err() != nil || classify(err) == kindTransient || classify(err) == kindGroupMissing:
		g.retentionFailed()
	default:
		s.log.Warn("cloudwatch retention not applied", "group", g.name, "days", s.cfg.RetentionDays, "err", describe(err))
	}
}

// keepRejected writes a line CloudWatch refused, whole, to the log (Inline): with
// no archive beside the sink, the process's own log is the only place left to
// keep it. A line split into several events is logged part by part. With ctx,
// on Lambda the record carries the invocation's request id.
func (s *Sink) keepRejected(ctx context.Context, reason string, e event) {
	s.log.WarnContext(ctx, "cloudwatch refused a line", "reason", reason, "app", e.app,
		"time", time.UnixMilli(e.ts).UTC(), "continued", !e.line, "line", e.msg)
}
