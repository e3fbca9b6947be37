package cwlemu_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

// message builds one event at now with a message of n copies of s.
func message(s string, n int) types.InputLogEvent {
	return types.InputLogEvent{Timestamp: aws.Int64(ms(now)), Message: aws.String(strings.Repeat(s, n))}
}

func repeat(e types.InputLogEvent, n int) []types.InputLogEvent {
	out := make([]types.InputLogEvent, n)
	for i := range out {
		out[i] = e
	}
	return out
}

func TestPutLogEventsRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		group  string
		stream string
		events []types.InputLogEvent
		code   string // "" means accepted
		msg    string
	}{
		{name: "ok", events: events(now)},
		{name: "missing group", group: "nope", events: events(now),
			code: "ResourceNotFoundException", msg: "The specified log group does not exist."},
		{name: "missing stream", stream: "nope", events: events(now),
			code: "ResourceNotFoundException", msg: "The specified log stream does not exist."},
		{name: "no events", events: []types.InputLogEvent{},
			code: "InvalidParameterException", msg: "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{name: "10000 events", events: repeat(message("x", 1), 10_000)},
		{name: "10001 events", events: repeat(message("x", 1), 10_001),
			code: "InvalidParameterException", msg: "1 validation error detected: Value '[10001 events]' at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000"},
		{name: "empty message", events: []types.InputLogEvent{message("x", 1), message("", 0)},
			code: "InvalidParameterException", msg: "1 validation error detected: Value '' at 'logEvents.2.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{name: "batch at limit", events: repeat(message("x", 1048576/2-26), 2)},
		{name: "batch over limit", events: repeat(message("x", 524288), 2),
			code: "InvalidParameterException", msg: "Upload too large: 1048628 bytes exceeds limit of 1048576"},
		{name: "event at limit", events: []types.InputLogEvent{message("x", 1048576-26)}},
		{name: "event over limit", events: []types.InputLogEvent{message("x", 1048576-25)},
			code: "InvalidParameterException", msg: "Log event too large: 1048577 bytes exceeds limit of 1048576"},
		{name: "event size counts UTF-8 bytes", events: []types.InputLogEvent{message("é", 524288)},
			code: "InvalidParameterException", msg: "Log event too large: 1048602 bytes exceeds limit of 1048576"},
		{name: "out of order", events: events(now, now.Add(-time.Millisecond)),
			code: "InvalidParameterException", msg: "Log events in a single PutLogEvents request must be in chronological order."},
		{name: "equal timestamps", events: events(now, now, now)},
		{name: "span 24h", events: events(now.Add(-24*time.Hour), now)},
		{name: "span over 24h", events: events(now.Add(-24*time.Hour-time.Millisecond), now),
			code: "InvalidParameterException", msg: "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."},
		{name: "span counts only valid events", events: events(now.Add(-15*24*time.Hour), now.Add(-23*time.Hour), now, now.Add(3*time.Hour))},
		{name: "bad stream name", stream: "a:b", events: events(now),
			code: "InvalidParameterException", msg: "1 validation error detected: Value 'a:b' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*"},
		{name: "two bad names", group: "a b", stream: "a:b", events: events(now),
			code: "InvalidParameterException", msg: `2 validation errors detected: Value 'a b' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+; Value 'a:b' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*`},
		{name: "bad group name", group: "a b", events: events(now),
			code: "InvalidParameterException", msg: `1 validation error detected: Value 'a b' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`},
	}
	srv, c := start(t, cwlemu.Options{})
	setup(t, c, "app", "web")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			group, stream := or(tt.group, "app"), or(tt.stream, "web")
			if tt.code == "" && stream == "web" {
				stream = strings.ReplaceAll(tt.name, " ", "-")
				setupStream(t, c, group, stream)
			}
			_, err := c.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
				LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: tt.events,
			})
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(srv.Events(group, stream)) == 0 {
					t.Error("nothing stored")
				}
				return
			}
			wantAPIError(t, err, tt.code, tt.msg)
		})
	}
	if n := len(srv.Events("app", "web")); n != 0 {
		t.Errorf("failed requests stored %d events", n)
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func setupStream(t *testing.T, c *cloudwatchlogs.Client, group, stream string) {
	t.Helper()
	_, err := c.CreateLogStream(context.Background(), &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)})
	if err != nil {
		t.Fatalf("create stream %q: %v", stream, err)
	}
}

func TestPutLogEventsRejectsByTime(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		name      string
		retention int32
		times     []time.Time
		want      *types.RejectedLogEventsInfo
		stored    []string
	}{
		{name: "all valid", times: []time.Time{now.Add(-time.Hour), now}, stored: []string{"m0", "m1"}},
		{name: "14 days old is accepted", times: []time.Time{now.Add(-14 * day)}, stored: []string{"m0"}},
		{name: "2 hours ahead is accepted", times: []time.Time{now.Add(2 * time.Hour)}, stored: []string{"m0"}},
		{name: "too old and too new",
			times:  []time.Time{now.Add(-20 * day), now.Add(-14*day - time.Millisecond), now.Add(-time.Hour), now, now.Add(2*time.Hour + time.Millisecond)},
			want:   &types.RejectedLogEventsInfo{TooOldLogEventEndIndex: aws.Int32(2), TooNewLogEventStartIndex: aws.Int32(4)},
			stored: []string{"m2", "m3"}},
		{name: "expired by retention", retention: 1,
			times:  []time.Time{now.Add(-15 * day), now.Add(-3 * day), now.Add(-day - time.Millisecond), now.Add(-day), now.Add(3 * time.Hour)},
			want:   &types.RejectedLogEventsInfo{TooOldLogEventEndIndex: aws.Int32(1), ExpiredLogEventEndIndex: aws.Int32(3), TooNewLogEventStartIndex: aws.Int32(4)},
			stored: []string{"m3"}},
		{name: "retention longer than 14 days", retention: 30,
			times:  []time.Time{now.Add(-20 * day), now},
			want:   &types.RejectedLogEventsInfo{TooOldLogEventEndIndex: aws.Int32(1)},
			stored: []string{"m1"}},
		{name: "all too new", times: []time.Time{now.Add(3 * time.Hour), now.Add(4 * time.Hour)},
			want: &types.RejectedLogEventsInfo{TooNewLogEventStartIndex: aws.Int32(0)}},
		{name: "all too old", times: []time.Time{now.Add(-30 * day), now.Add(-29 * day)},
			want: &types.RejectedLogEventsInfo{TooOldLogEventEndIndex: aws.Int32(2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := start(t, cwlemu.Options{})
			setup(t, c, "app", "web")
			ctx := context.Background()
			if tt.retention > 0 {
				if _, err := c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("app"), RetentionInDays: aws.Int32(tt.retention)}); err != nil {
					t.Fatal(err)
				}
			}
			out, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
				LogGroupName: aws.String("app"), LogStreamName: aws.String("web"), LogEvents: events(tt.times...),
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := out.RejectedLogEventsInfo; !sameRejected(got, tt.want) {
				t.Errorf("rejected = %s, want %s", showRejected(got), showRejected(tt.want))
			}
			var stored []string
			for _, e := range srv.Events("app", "web") {
				stored = append(stored, e.Message)
			}
			if strings.Join(stored, ",") != strings.Join(tt.stored, ",") {
				t.Errorf("stored %v, want %v", stored, tt.stored)
			}
		})
	}
}

func sameRejected(a, b *types.RejectedLogEventsInfo) bool {
	return showRejected(a) == showRejected(b)
}

func showRejected(r *types.RejectedLogEventsInfo) string {
	if r == nil {
		return "none"
	}
	show := func(p *int32) string {
		if p == nil {
			return "-"
		}
		return strconv.Itoa(int(*p))
	}
	return "tooNewStart=" + show(r.TooNewLogEventStartIndex) + " tooOldEnd=" + show(r.TooOldLogEventEndIndex) + " expiredEnd=" + show(r.ExpiredLogEventEndIndex)
}

func TestPutLogEventsIgnoresSequenceTokens(t *testing.T) {
	t.Parallel()
	_, c := start(t, cwlemu.Options{})
	setup(t, c, "app", "web")
	seen := map[string]bool{}
	for _, tok := range []*string{nil, aws.String("bogus"), aws.String("49039859")} {
		out, err := c.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
			LogGroupName: aws.String("app"), LogStreamName: aws.String("web"), LogEvents: events(now), SequenceToken: tok,
		})
		if err != nil {
			t.Fatalf("token %v: %v", aws.ToString(tok), err)
		}
		next := aws.ToString(out.NextSequenceToken)
		if next == "" || seen[next] {
			t.Errorf("nextSequenceToken %q empty or repeated", next)
		}
		seen[next] = true
	}
}

func TestCreateRace(t *testing.T) {
	t.Parallel()
	srv, c := start(t, cwlemu.Options{})
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := c.CreateLogGroup(context.Background(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("app")})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	created := 0
	for err := range errs {
		if err == nil {
			created++
			continue
		}
		wantAPIError(t, err, "ResourceAlreadyExistsException", "The specified log group already exists")
	}
	if created != 1 || len(srv.Groups()) != 1 {
		t.Errorf("%d creations succeeded, %d groups", created, len(srv.Groups()))
	}
}

func TestPutLogEventsInParallel(t *testing.T) {
	t.Parallel()
	srv, c := start(t, cwlemu.Options{})
	setup(t, c, "app", "web")
	const writers, puts, size = 8, 25, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*puts)
	for range writers {
		wg.Go(func() {
			for range puts {
				_, err := c.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
					LogGroupName: aws.String("app"), LogStreamName: aws.String("web"), LogEvents: repeat(message("x", 100), size),
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(srv.Events("app", "web")); got != writers*puts*size {
		t.Errorf("stored %d events, want %d", got, writers*puts*size)
	}
	if got := srv.Calls()["PutLogEvents"]; got != writers*puts {
		t.Errorf("Calls[PutLogEvents] = %d, want %d", got, writers*puts)
	}
}
