package verify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
)

// CloudWatchAPI is the part of the CloudWatch Logs API the readers call.
type CloudWatchAPI interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
	GetLogEvents(ctx context.Context, in *cloudwatchlogs.GetLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error)
}

var _ CloudWatchAPI = (*cloudwatchlogs.Client)(nil)

// CloudWatchReader reads a run back from a CloudWatch Logs group with
// FilterLogEvents, the service searching every stream of the group for the run id.
type CloudWatchReader struct {
	c     CloudWatchAPI
	group string
}

var _ Reader = (*CloudWatchReader)(nil)

// NewCloudWatchReader reads the lines of the log group (drainpipe's sink writes
// an app's lines to "/heroku/<app>").
func NewCloudWatchReader(c CloudWatchAPI, group string) *CloudWatchReader {
	return &CloudWatchReader{c: c, group: group}
}

// Read implements Reader. A group
// that does not exist yet holds no lines: the sink creates it with the first.
func (r *CloudWatchReader) Read(ctx context.Context, runID string, since time.Time) ([]Seen, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(r.group),
		// Quoted, the run id is one term whatever it holds.
		FilterPattern: aws.String(`"` + runID + `"`),
		StartTime:     aws.Int64(since.UnixMilli()),
		EndTime:       aws.Int64(readEnd().UnixMilli()),
	}
	var out []Seen
	for {
		page, err := r.c.FilterLogEvents(ctx, in)
		if err != nil {
			if notFound(err) {
				return nil, nil
			}
			return nil, cloudWatchError(fmt.Errorf("filter log events of %s: %w", r.group, err))
		}
		for _, e := range page.Events {
			out = append(out, Seen{Message: aws.ToString(e.Message)})
		}
		// No token means done. One equal to the token sent would read the same
		// page forever: the service should not send it, but must not hang us.
		next := aws.ToString(page.NextToken)
		if next == "" || next == aws.ToString(in.NextToken) {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// CloudWatchStreamReader reads a run back from named streams of a CloudWatch Logs
// group with GetLogEvents, reading each stream whole from the run's start. It
// needs only the logs:GetLogEvents permission, and suits a group that holds little
// else (an app kept for verification), since every event since the start is read.
type CloudWatchStreamReader struct {
	c       CloudWatchAPI
	group   string
	streams []string
}

var _ Reader = (*CloudWatchStreamReader)(nil)

// NewCloudWatchStreamReader reads the named streams of the log group; with none,
// the streams named by the UTC dates from the run's start to now ("2026-03-01"),
// which is where drainpipe's sink writes by default.
func NewCloudWatchStreamReader(c CloudWatchAPI, group string, streams ...string) *CloudWatchStreamReader {
	return &CloudWatchStreamReader{c: c, group: group, streams: streams}
}

// Read implements Reader. A group
// or stream that does not exist yet holds no lines.
func (r *CloudWatchStreamReader) Read(ctx context.Context, runID string, since time.Time) ([]Seen, error) {
	until := readEnd()
	streams := r.streams
	if len(streams) == 0 {
		streams = dateStreams(since, until)
	}
	var out []Seen
	for _, s := range streams {
		evs, err := r.readStream(ctx, s, since, until)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			out = append(out, Seen{Message: aws.ToString(e.Message)})
		}
	}
	return out, nil
}

// readStream pages forward through one stream. The service says it is done by
// sending back the forward token it was given; pages before that may be short or
// empty. The end time keeps lines still arriving from stretching the read forever.
func (r *CloudWatchStreamReader) readStream(ctx context.Context, stream string, since, until time.Time) ([]types.OutputLogEvent, error) {
	in := &cloudwatchlogs.GetLogEventsInput{
		LogGroupName:  aws.String(r.group),
		LogStreamName: aws.String(stream),
		StartFromHead: aws.Bool(true),
		StartTime:     aws.Int64(since.UnixMilli()),
		EndTime:       aws.Int64(until.UnixMilli()),
	}
	var out []types.OutputLogEvent
	for {
		page, err := r.c.GetLogEvents(ctx, in)
		if err != nil {
			if notFound(err) {
				return nil, nil
			}
			return nil, cloudWatchError(fmt.Errorf("get log events of %s %s: %w", r.group, stream, err))
		}
		out = append(out, page.Events...)
		next := aws.ToString(page.NextForwardToken)
		if next == "" || next == aws.ToString(in.NextToken) {
			return out, nil
		}
		in.NextToken = page.NextForwardToken
	}
}

// readEnd bounds a read: every line sent before the read has an earlier time,
// and the second of slack covers the rounding to milliseconds.
func readEnd() time.Time { return time.Now().Add(time.Second) }

// dateStreams names the UTC days from since to until.
func dateStreams(since, until time.Time) []string {
	var out []string
	day := since.UTC().Truncate(24 * time.Hour)
	for ; !day.After(until); day = day.Add(24 * time.Hour) {
		out = append(out, day.Format(time.DateOnly))
	}
	return out
}

func notFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}

// cloudWatchError marks the service's answers that asking again cannot mend:
// 4xx errors (denied access, an unknown key, an invalid group name) other than
// throttling, which the SDK has already retried. Not every such error is in the
// SDK's model, so the HTTP status decides, not the error's fault.
func cloudWatchError(err error) error {
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if errors.As(err, &ae) && errors.As(err, &re) && re.HTTPStatusCode()/100 == 4 && !throttled(ae.ErrorCode()) {
		return permanent(err)
	}
	return err
}

func throttled(code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "LimitExceededException", "RequestLimitExceeded", "TooManyRequestsException":
		return true
	}
	return false
}
