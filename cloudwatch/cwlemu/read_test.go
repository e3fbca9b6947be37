package cwlemu_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

func put(t *testing.T, c *cloudwatchlogs.Client, group, stream string, evs []types.InputLogEvent) {
	t.Helper()
	_, err := c.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: evs})
	if err != nil {
		t.Fatalf("put to %s/%s: %v", group, stream, err)
	}
}

// numbered builds n events one millisecond apart ending at end, with messages
// prefix0 .. prefix(n-1).
func numbered(prefix string, n int, end time.Time) []types.InputLogEvent {
	out := make([]types.InputLogEvent, n)
	for i := range out {
		out[i] = types.InputLogEvent{Timestamp: aws.Int64(ms(end) - int64(n-1-i)), Message: aws.String(fmt.Sprint(prefix, i))}
	}
	return out
}

func TestDescribeLogGroupsPaging(t *testing.T) {
	t.Parallel()
	_, c := start(t, cwlemu.Options{})
	for i := range 7 {
		setup(t, c, fmt.Sprintf("/heroku/app%d", i))
	}
	setup(t, c, "other")
	tests := []struct {
		name    string
		prefix  string
		pattern string
		limit   int32
		want    []string
	}{
		{name: "pattern is a case-insensitive substring", pattern: "APP3", want: []string{"/heroku/app3"}},
		{name: "all in one page", want: []string{"/heroku/app0", "/heroku/app1", "/heroku/app2", "/heroku/app3", "/heroku/app4", "/heroku/app5", "/heroku/app6", "other"}},
		{name: "pages of 3 with prefix", prefix: "/heroku/", limit: 3, want: []string{"/heroku/app0", "/heroku/app1", "/heroku/app2", "/heroku/app3", "/heroku/app4", "/heroku/app5", "/heroku/app6"}},
		{name: "exact pages", prefix: "/heroku/app", limit: 7, want: []string{"/heroku/app0", "/heroku/app1", "/heroku/app2", "/heroku/app3", "/heroku/app4", "/heroku/app5", "/heroku/app6"}},
		{name: "nothing", prefix: "none", limit: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			var token *string
			for pages := 0; ; pages++ {
				in := &cloudwatchlogs.DescribeLogGroupsInput{NextToken: token}
				if tt.prefix != "" {
					in.LogGroupNamePrefix = aws.String(tt.prefix)
				}
				if tt.pattern != "" {
					in.LogGroupNamePattern = aws.String(tt.pattern)
				}
				if tt.limit > 0 {
					in.Limit = aws.Int32(tt.limit)
				}
				out, err := c.DescribeLogGroups(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				if tt.limit > 0 && len(out.LogGroups) > int(tt.limit) {
					t.Fatalf("page of %d, limit %d", len(out.LogGroups), tt.limit)
				}
				for _, g := range out.LogGroups {
					got = append(got, aws.ToString(g.LogGroupName))
				}
				if token = out.NextToken; token == nil {
					break
				}
				if pages > 10 {
					t.Fatal("paging does not end")
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("groups = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDescribeLogStreams(t *testing.T) {
	t.Parallel()
	srv, c := start(t, cwlemu.Options{})
	setup(t, c, "app", "web.1", "web.2", "worker.1", "web.3")
	// Last event times: web.3 oldest, then worker.1, web.1, web.2 newest.
	put(t, c, "app", "web.3", events(now.Add(-4*time.Minute)))
	put(t, c, "app", "worker.1", events(now.Add(-3*time.Minute)))
	put(t, c, "app", "web.1", events(now.Add(-2*time.Minute)))
	put(t, c, "app", "web.2", events(now.Add(-1*time.Minute)))
	tests := []struct {
		name string
		in   cloudwatchlogs.DescribeLogStreamsInput
		want []string
		msg  string
	}{
		{name: "by name", want: []string{"web.1", "web.2", "web.3", "worker.1"}},
		{name: "prefix, pages of 2", in: cloudwatchlogs.DescribeLogStreamsInput{LogStreamNamePrefix: aws.String("web"), Limit: aws.Int32(2)},
			want: []string{"web.1", "web.2", "web.3"}},
		{name: "by last event time", in: cloudwatchlogs.DescribeLogStreamsInput{OrderBy: types.OrderByLastEventTime, Limit: aws.Int32(3)},
			want: []string{"web.3", "worker.1", "web.1", "web.2"}},
		{name: "by last event time descending", in: cloudwatchlogs.DescribeLogStreamsInput{OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true), Limit: aws.Int32(1)},
			want: []string{"web.2", "web.1", "worker.1", "web.3"}},
		{name: "by identifier", in: cloudwatchlogs.DescribeLogStreamsInput{LogGroupIdentifier: aws.String("arn:aws:logs:eu-west-1:123456789012:log-group:app")},
			want: []string{"web.1", "web.2", "web.3", "worker.1"}},
		{name: "limit 51", in: cloudwatchlogs.DescribeLogStreamsInput{Limit: aws.Int32(51)},
			msg: "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50"},
		{name: "limit 0", in: cloudwatchlogs.DescribeLogStreamsInput{Limit: aws.Int32(0)},
			msg: "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{name: "prefix with time order", in: cloudwatchlogs.DescribeLogStreamsInput{LogStreamNamePrefix: aws.String("web"), OrderBy: types.OrderByLastEventTime},
			msg: "Cannot order by LastEventTime with a logStreamNamePrefix."},
		{name: "bad token", in: cloudwatchlogs.DescribeLogStreamsInput{NextToken: aws.String("garbage!")},
			msg: "The specified nextToken is invalid."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := tt.in
			if in.LogGroupIdentifier == nil {
				in.LogGroupName = aws.String("app")
			}
			var got []string
			for pages := 0; pages < 10; pages++ {
				out, err := c.DescribeLogStreams(context.Background(), &in)
				if tt.msg != "" {
					wantAPIError(t, err, "InvalidParameterException", tt.msg)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range out.LogStreams {
					got = append(got, aws.ToString(s.LogStreamName))
				}
				if in.NextToken = out.NextToken; in.NextToken == nil {
					break
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("streams = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("counted", func(t *testing.T) {
		t.Parallel()
		if srv.Calls()["DescribeLogStreams"] == 0 {
			t.Error("DescribeLogStreams not counted")
		}
	})
}

func TestDescribeLogStreamsReportsEvents(t *testing.T) {
	t.Parallel()
	_, c := start(t, cwlemu.Options{})
	setup(t, c, "app", "web", "idle")
	put(t, c, "app", "web", []types.InputLogEvent{message("abc", 1), message("de", 1)})
	out, err := c.DescribeLogStreams(context.Background(), &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	idle, web := out.LogStreams[0], out.LogStreams[1]
	if idle.LastEventTimestamp != nil || idle.FirstEventTimestamp != nil {
		t.Errorf("idle stream has event times: %+v", idle)
	}
	if aws.ToInt64(web.FirstEventTimestamp) != ms(now) || aws.ToInt64(web.LastEventTimestamp) != ms(now) || aws.ToInt64(web.LastIngestionTime) != ms(now) {
		t.Errorf("web stream times: %+v", web)
	}
	if aws.ToString(web.Arn) != "arn:aws:logs:eu-west-1:123456789012:log-group:app:log-stream:web" {
		t.Errorf("arn = %q", aws.ToString(web.Arn))
	}
}

func TestGetLogEventsPaging(t *testing.T) {
	t.Parallel()
	_, c := start(t, cwlemu.Options{})
	setup(t, c, "app", "web")
	put(t, c, "app", "web", numbered("e", 25, now))
	ctx := context.Background()
	get := func(tok *string, head bool) *cloudwatchlogs.GetLogEventsOutput {
		t.Helper()
		out, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{
			LogGroupName: aws.String("app"), LogStreamName: aws.String("web"), NextToken: tok, StartFromHead: aws.Bool(head), Limit: aws.Int32(10),
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	// Forward from the head: 10, 10, 5, then an empty page with the same token.
	var got []string
	var tok *string
	for pages := 0; ; pages++ {
		out := get(tok, true)
		for _, e := range out.Events {
			got = append(got, aws.ToString(e.Message))
		}
		if len(out.Events) == 0 {
			if aws.ToString(out.NextForwardToken) != aws.ToString(tok) {
				t.Errorf("at the end: forward token %q, sent %q", aws.ToString(out.NextForwardToken), aws.ToString(tok))
			}
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		tok = out.NextForwardToken
	}
	if want := numberedMessages("e", 0, 25); !slices.Equal(got, want) {
		t.Errorf("forward = %v, want %v", got, want)
	}

	// New events appear after the end token.
	put(t, c, "app", "web", numbered("n", 2, now.Add(time.Second)))
	if out := get(tok, true); len(out.Events) != 2 || aws.ToString(out.Events[0].Message) != "n0" {
		t.Errorf("after more puts: %d events", len(out.Events))
	}

	// Without a token and not from the head: the newest page, then backward.
	out := get(nil, false)
	if msgs := messages(out.Events); !slices.Equal(msgs, append(numberedMessages("e", 17, 25), "n0", "n1")) {
		t.Errorf("tail page = %v", msgs)
	}
	back := get(out.NextBackwardToken, false)
	if msgs := messages(back.Events); !slices.Equal(msgs, numberedMessages("e", 7, 17)) {
		t.Errorf("backward page = %v", msgs)
	}

	_, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("web"), NextToken: aws.String("x/1")})
	wantAPIError(t, err, "InvalidParameterException", "The specified nextToken is invalid.")
	_, err = c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException", "The specified log stream does not exist.")
}

func TestGetLogEventsTimeRange(t *testing.T) {
	t.Parallel()
	_, c := start(t, cwlemu.Options{})
	setup(t, c, "app", "web")
	put(t, c, "app", "web", numbered("e", 10, now))
	out, err := c.GetLogEvents(context.Background(), &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: aws.String("app"), LogStreamName: aws.String("web"), StartFromHead: aws.Bool(true),
		StartTime: aws.Int64(ms(now) - 7), EndTime: aws.Int64(ms(now) - 2),
	})
	if err != nil {
		t.Fatal(err)
	}
	if msgs := messages(out.Events); !slices.Equal(msgs, numberedMessages("e", 2, 7)) {
		t.Errorf("events = %v", msgs)
	}
}

func messages(evs []types.OutputLogEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = aws.ToString(e.Message)
	}
	return out
}

func numberedMessages(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprint(prefix, i))
	}
	return out
}

func TestFilterLogEvents(t *testing.T) {
	t.Parallel()
	_, c := start(t, cwlemu.Options{})
	setup(t, c, "app", "web.1", "web.2", "worker.1")
	put(t, c, "app", "web.1", numbered("web1 ", 5, now))
	put(t, c, "app", "web.2", numbered("web2 ", 5, now))
	put(t, c, "app", "worker.1", numbered("worker ERROR ", 3, now))
	tests := []struct {
		name string
		in   cloudwatchlogs.FilterLogEventsInput
		want []string
		msg  string
	}{
		{name: "all, in pages of 4", in: cloudwatchlogs.FilterLogEventsInput{Limit: aws.Int32(4)},
			want: []string{"web1 0", "web2 0", "web1 1", "web2 1", "web1 2", "web2 2", "worker ERROR 0", "web1 3", "web2 3", "worker ERROR 1", "web1 4", "web2 4", "worker ERROR 2"}},
		{name: "pattern", in: cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String("ERROR")},
			want: []string{"worker ERROR 0", "worker ERROR 1", "worker ERROR 2"}},
		{name: "quoted pattern", in: cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String(`"web2 4"`)},
			want: []string{"web2 4"}},
		{name: "stream names and time range", in: cloudwatchlogs.FilterLogEventsInput{LogStreamNames: []string{"web.2", "absent"}, StartTime: aws.Int64(ms(now) - 3), EndTime: aws.Int64(ms(now) - 1)},
			want: []string{"web2 1", "web2 2", "web2 3"}},
		{name: "stream prefix", in: cloudwatchlogs.FilterLogEventsInput{LogStreamNamePrefix: aws.String("wor"), Limit: aws.Int32(1)},
			want: []string{"worker ERROR 0", "worker ERROR 1", "worker ERROR 2"}},
		{name: "nothing matches", in: cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String("nope")}},
		{name: "names and prefix", in: cloudwatchlogs.FilterLogEventsInput{LogStreamNames: []string{"web.1"}, LogStreamNamePrefix: aws.String("w")},
			msg: "You cannot specify both logStreamNames and logStreamNamePrefix."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := tt.in
			in.LogGroupName = aws.String("app")
			var got []string
			for pages := 0; ; pages++ {
				out, err := c.FilterLogEvents(context.Background(), &in)
				if tt.msg != "" {
					wantAPIError(t, err, "InvalidParameterException", tt.msg)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range out.Events {
					got = append(got, aws.ToString(e.Message))
					if !strings.HasPrefix(aws.ToString(e.LogStreamName), "w") || aws.ToString(e.EventId) == "" {
						t.Errorf("event %+v", e)
					}
				}
				if in.NextToken = out.NextToken; in.NextToken == nil {
					break
				}
				if pages > 20 {
					t.Fatal("paging does not end")
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("events = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadPagesStopAtOneMegabyte(t *testing.T) {
	t.Parallel()
	_, c := start(t, cwlemu.Options{})
	setup(t, c, "app", "web")
	big := strings.Repeat("x", 400_000)
	for range 3 {
		put(t, c, "app", "web", []types.InputLogEvent{{Timestamp: aws.Int64(ms(now)), Message: aws.String(big)}})
	}
	ctx := context.Background()
	out, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("web"), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 2 {
		t.Errorf("first page has %d events of 400 kB, want 2", len(out.Events))
	}
	filtered, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	if len(filtered.Events) != 2 || filtered.NextToken == nil {
		t.Errorf("first filter page has %d events (next token %v), want 2 and more", len(filtered.Events), filtered.NextToken != nil)
	}
}
