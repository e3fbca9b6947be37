package cwlemu_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

// now is the emulator's fixed clock in the tests.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ms(t time.Time) int64 { return t.UnixMilli() }

// start serves a fresh emulator on a real listener and returns it with a real SDK
// client that does not retry, so each call sees exactly one answer.
func start(t testing.TB, opts cwlemu.Options) (*cwlemu.Server, *cloudwatchlogs.Client) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return now }
	}
	srv := cwlemu.New(opts)
	url, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, client(url, "AKIDTEST", 1)
}

// client is a real SDK client for the emulator at url. It makes up to attempts
// attempts per call, with the SDK's standard retry rules but no backoff delay, so
// tests stay fast.
func client(url, keyID string, attempts int) *cloudwatchlogs.Client {
	return cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, "secret", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		}),
	})
}

// setup creates a group and a stream, failing the test on any error.
func setup(t testing.TB, c *cloudwatchlogs.Client, group string, streams ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatalf("create group %q: %v", group, err)
	}
	for _, s := range streams {
		if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(s)}); err != nil {
			t.Fatalf("create stream %q: %v", s, err)
		}
	}
}

// events builds input events at the given times, with messages "m0", "m1" ...
func events(times ...time.Time) []types.InputLogEvent {
	out := make([]types.InputLogEvent, len(times))
	for i, tm := range times {
		out[i] = types.InputLogEvent{Timestamp: aws.Int64(ms(tm)), Message: aws.String("m" + strconv.Itoa(i))}
	}
	return out
}

// wantAPIError checks that err is an API error with the code and, unless msg is
// empty, the exact message.
func wantAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Errorf("code = %q, want %q (message %q)", ae.ErrorCode(), code, ae.ErrorMessage())
	}
	if msg != "" && ae.ErrorMessage() != msg {
		t.Errorf("message = %q, want %q", ae.ErrorMessage(), msg)
	}
}
