package verify_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
	"github.com/drainpipe/drainpipe/logplex"
	"github.com/drainpipe/drainpipe/verify"
)

// startCloudWatch serves a fresh emulator on 127.0.0.1 and returns it with a real
// SDK client for it that does not retry, so each call is one request.
func startCloudWatch(t testing.TB) (*cwlemu.Server, *cloudwatchlogs.Client) {
	t.Helper()
	srv := cwlemu.New(cwlemu.Options{})
	url, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	c := cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDVERIFY", "secret", ""),
		Retryer:      retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 1 }),
	})
	return srv, c
}

func create(t testing.TB, c *cloudwatchlogs.Client, group string, streams ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatalf("create group: %v", err)
	}
	for _, s := range streams {
		if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(s)}); err != nil {
			t.Fatalf("create stream: %v", err)
		}
	}
}

// put stores messages as events at ts, 10,000 to a request as the service allows.
func put(t testing.TB, c *cloudwatchlogs.Client, group, stream string, ts time.Time, msgs []string) {
	t.Helper()
	for len(msgs) > 0 {
		n := min(len(msgs), 10_000)
		evs := make([]types.InputLogEvent, n)
		for i, m := range msgs[:n] {
			evs[i] = types.InputLogEvent{Timestamp: aws.Int64(ts.UnixMilli()), Message: aws.String(m)}
		}
		out, err := c.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
			LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: evs,
		})
		if err != nil || out.RejectedLogEventsInfo != nil {
			t.Fatalf("put log events: %v %+v", err, out)
		}
		msgs = msgs[n:]
	}
}

// Both readers page through more than one page of events, and stop: the filter
// reader when no token comes back, the stream reader when its forward token does.
func TestCloudWatchReaders(t *testing.T) {
	t.Parallel()
	srv, c := startCloudWatch(t)
	now := time.Now()
	stream := now.UTC().Format(time.DateOnly)
	create(t, c, "/heroku/verify", stream, "other")
	const run, pairs = "00c0ffee00c0ffee", 6000 // 12,000 events: more than one 10,000-event page
	var msgs, want []string
	for id := 1; id <= pairs; id++ {
		for _, h := range []string{"begin", "end"} {
			m := fmt.Sprintf("app[verify.%d]: drainpipe-verify %s %d %s", id%16+1, run, id, h)
			msgs = append(msgs, m, "heroku[router]: at=info method=GET path=/ status=200")
			want = append(want, m)
		}
	}
	put(t, c, "/heroku/verify", stream, now.Add(-time.Minute), msgs)
	put(t, c, "/heroku/verify", stream, now.Add(-time.Hour), []string{"app[verify.1]: drainpipe-verify " + run + " 1 begin"}) // before since
	put(t, c, "/heroku/verify", "other", now.Add(-time.Minute), []string{"app[verify.1]: drainpipe-verify " + run + " 2 end"})
	slices.Sort(want)
	since := now.Add(-10 * time.Minute)

	tests := []struct {
		name  string
		r     verify.Reader
		want  []string
		op    string
		calls int
	}{
		// Filter sees every stream: the event in "other" too; pages 10,000 + 2,001.
		{"filter", verify.NewCloudWatchReader(c, "/heroku/verify"), sortedWith(want, "app[verify.1]: drainpipe-verify "+run+" 2 end"), "FilterLogEvents", 2},
		// The date stream only: 24,000 events in pages of 10,000, 10,000, 4,000, then the repeated token.
		{"stream by date", verify.NewCloudWatchStreamReader(c, "/heroku/verify"), want, "GetLogEvents", 4},
		{"named stream", verify.NewCloudWatchStreamReader(c, "/heroku/verify", stream), want, "GetLogEvents", 4},
	}
	for _, tt := range tests {
		// A megabyte page now and then fails to read through the SDK with "use of
		// closed network connection" (a known aws-sdk-go-v2 behaviour, issues #1825
		// and #2737; raw HTTP reads of the same answers never fail). This client
		// makes one attempt per call so that calls can be counted; the SDK's default
		// retryer, and Run's poll loop, read again, and so does this test, counting
		// only the attempt that worked.
		var before int
		var seen []verify.Seen
		var err error
		for range 3 {
			before = srv.Calls()[tt.op]
			if seen, err = tt.r.Read(t.Context(), run, since); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var got []string
		for _, s := range seen {
			if strings.Contains(s.Message, run) {
				got = append(got, s.Message)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: read %d lines of the run, want %d, each once", tt.name, len(got), len(tt.want))
		}
		if calls := srv.Calls()[tt.op] - before; calls != tt.calls {
			t.Errorf("%s: %d %s calls, want %d", tt.name, calls, tt.op, tt.calls)
		}
	}
}

func sortedWith(s []string, more ...string) []string {
	out := append(slices.Clone(s), more...)
	slices.Sort(out)
	return out
}

// Before the sink has written anything there is no group or stream: no lines, no error.
func TestCloudWatchReadersNothingYet(t *testing.T) {
	t.Parallel()
	_, c := startCloudWatch(t)
	create(t, c, "/heroku/has-group")
	for _, r := range []verify.Reader{
		verify.NewCloudWatchReader(c, "/heroku/none"),
		verify.NewCloudWatchStreamReader(c, "/heroku/none"),
		verify.NewCloudWatchStreamReader(c, "/heroku/has-group"),
	} {
		seen, err := r.Read(t.Context(), "00c0ffee00c0ffee", time.Now().Add(-time.Minute))
		if err != nil || len(seen) != 0 {
			t.Errorf("%T: %v, %v; want nothing and no error", r, seen, err)
		}
	}
}

// A refused key is not waited out: the run stops with the service's answer.
func TestCloudWatchReaderRefused(t *testing.T) {
	t.Parallel()
	srv, c := startCloudWatch(t)
	create(t, c, "/heroku/verify")
	srv.RejectAccessKey("AKIDVERIFY")
	d := newDrain(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err := verify.Run(ctx, verify.Config{URL: d.url, Count: 3, Wait: time.Hour, Reader: verify.NewCloudWatchReader(c, "/heroku/verify")})
	if err == nil || !strings.Contains(err.Error(), "UnrecognizedClient") {
		t.Errorf("Run: %v, want the service's refusal", err)
	}
}

// cloudWatchDrain is a drain that ships to CloudWatch as drainpipe's sink writes:
// text events "app[dyno]: message" at the line's time, into /heroku/<app>, stream
// <date>. It answers 204 whatever CloudWatch did with the events, like the shipper
// that said "delivered" for lines CloudWatch rejected.
func cloudWatchDrain(t testing.TB, c *cloudwatchlogs.Client, group string, age func(id int) time.Duration) string {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		recs, _ := logplex.AppendRecords(nil, body, logplex.Options{Received: time.Now()})
		for _, rec := range recs {
			var id int
			_, _ = fmt.Sscanf(rec.Message, "drainpipe-verify %s %d", new(string), &id)
			ts := rec.Time.Add(-age(id))
			stream := aws.String(ts.UTC().Format(time.DateOnly))
			_, _ = c.CreateLogStream(r.Context(), &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: stream}) // exists after the first
			_, _ = c.PutLogEvents(r.Context(), &cloudwatchlogs.PutLogEventsInput{
				LogGroupName: aws.String(group), LogStreamName: stream,
				LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(ts.UnixMilli()), Message: aws.String(rec.Source + "[" + rec.Dyno + "]: " + rec.Message)}},
			})
		}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/logs"
}

// Through CloudWatch, lines it rejected as too old are the missing pairs, while
// the shipper acknowledged them all.
func TestRunCloudWatch(t *testing.T) {
	t.Parallel()
	_, c := startCloudWatch(t)
	create(t, c, "/heroku/verify")
	var want []int
	url := cloudWatchDrain(t, c, "/heroku/verify", func(id int) time.Duration {
		if id%10 == 3 {
			return 15 * 24 * time.Hour // past the 14 days CloudWatch takes
		}
		return 0
	})
	for id := 3; id <= 40; id += 10 {
		want = append(want, id)
	}
	for _, r := range []verify.Reader{verify.NewCloudWatchReader(c, "/heroku/verify"), verify.NewCloudWatchStreamReader(c, "/heroku/verify")} {
		rep, err := verify.Run(t.Context(), verify.Config{URL: url, Count: 40, Concurrency: 4, Wait: 600 * time.Millisecond, Reader: r})
		if err != nil {
			t.Fatalf("%T: Run: %v", r, err)
		}
		checkSums(t, rep, 40)
		if !slices.Equal(rep.MissingIDs, want) || rep.Found != 36 || rep.Duplicates != 0 {
			t.Errorf("%T: report %+v: want %v missing, 36 found", r, rep, want)
		}
	}
}
