package cloudwatch

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// enforceRetention applies the configured retention to each group the sink puts
// to, once per start: off the delivery path, since its quota (5 a second) is far
// below PutLogEvents'.
func (s *Sink) enforceRetention() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case g := <-s.retention:
			in := &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(g.name), RetentionInDays: aws.Int32(s.cfg.RetentionDays)}
			err := s.retry(s.ctx, "PutRetentionPolicy", s.limits.retention, func(ctx context.Context) error {
				_, err := s.client.PutRetentionPolicy(ctx, in)
				return err
			})
			switch {
			case err == nil || s.ctx.Err() != nil:
			case classify(err) == kindGroupMissing:
				g.retentionFailed() // deleted meanwhile; the next put recreates it
			default:
				s.log.Warn("cloudwatch retention not applied", "group", g.name, "days", s.cfg.RetentionDays, "err", describe(err))
			}
		}
	}
}
