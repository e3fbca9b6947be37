package cloudwatch

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// Client is the part of the CloudWatch Logs API the sink calls: puts, and the
// creations and retention a put may need. *cloudwatchlogs.Client implements it.
type Client interface {
	PutLogEvents(ctx context.Context, in *cloudwatchlogs.PutLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error)
	CreateLogGroup(ctx context.Context, in *cloudwatchlogs.CreateLogGroupInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	CreateLogStream(ctx context.Context, in *cloudwatchlogs.CreateLogStreamInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error)
	PutRetentionPolicy(ctx context.Context, in *cloudwatchlogs.PutRetentionPolicyInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error)
}

var _ Client = (*cloudwatchlogs.Client)(nil)

// NewClient builds a CloudWatch Logs client from the SDK's default chain
// (environment, AWS_PROFILE, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, instance roles).
// A non-empty region or endpoint overrides the chain's. The SDK's client-side
// retry quota is turned off: the sink retries for as long as it must and limits
// its own rate, and a spent quota would only turn throttling into errors.
func NewClient(ctx context.Context, region, endpoint string, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.Client, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	opts = append(opts, config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.RateLimiter = ratelimit.None })
	}))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	if endpoint != "" {
		optFns = append([]func(*cloudwatchlogs.Options){func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(endpoint) }}, optFns...)
	}
	return cloudwatchlogs.NewFromConfig(cfg, optFns...), nil
}
