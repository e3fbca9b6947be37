package cwlemu_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

func TestPutAndReadBack(t *testing.T) {
	t.Parallel()
	srv, c := start(t, cwlemu.Options{})
	setup(t, c, "app", "web")
	out, err := c.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: aws.String("app"), LogStreamName: aws.String("web"),
		LogEvents: events(now.Add(-time.Minute), now),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.RejectedLogEventsInfo != nil || aws.ToString(out.NextSequenceToken) == "" {
		t.Errorf("out = %+v", out)
	}
	got := srv.Events("app", "web")
	want := []cwlemu.Event{{Timestamp: ms(now.Add(-time.Minute)), IngestionTime: ms(now), Message: "m0"}, {Timestamp: ms(now), IngestionTime: ms(now), Message: "m1"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("events = %+v, want %+v", got, want)
	}
}

func TestPutMissingGroup(t *testing.T) {
	t.Parallel()
	_, c := start(t, cwlemu.Options{})
	_, err := c.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: aws.String("nope"), LogStreamName: aws.String("web"), LogEvents: events(now),
	})
	wantAPIError(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
}
