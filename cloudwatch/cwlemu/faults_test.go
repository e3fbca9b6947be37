package cwlemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

// raw sends one request by hand, for what the SDK would never send.
func raw(t *testing.T, url, target, auth, body string) (status int, errType string, payload map[string]string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &payload)
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), payload
}

const sigv4 = "AWS4-HMAC-SHA256 Credential=AKID/20260301/eu-west-1/logs/aws4_request, SignedHeaders=host, Signature=00"

func TestWireErrors(t *testing.T) {
	t.Parallel()
	srv := cwlemu.New(cwlemu.Options{})
	url, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	tests := []struct {
		name, target, auth, body string
		status                   int
		code, msg                string
	}{
		{name: "no authorization", target: "Logs_20140328.DescribeLogGroups", body: "{}",
			status: 400, code: "UnrecognizedClientException", msg: "The security token included in the request is invalid."},
		{name: "unknown operation", target: "Logs_20140328.StartQuery", auth: sigv4, body: "{}",
			status: 400, code: "UnknownOperationException"},
		{name: "no target", auth: sigv4, body: "{}", status: 400, code: "UnknownOperationException"},
		{name: "other service", target: "DynamoDB_20120810.ListTables", auth: sigv4, body: "{}", status: 400, code: "UnknownOperationException"},
		{name: "malformed JSON", target: "Logs_20140328.CreateLogGroup", auth: sigv4, body: `{"logGroupName":`,
			status: 400, code: "SerializationException"},
		{name: "wrong type", target: "Logs_20140328.PutRetentionPolicy", auth: sigv4, body: `{"logGroupName":"a","retentionInDays":"seven"}`,
			status: 400, code: "SerializationException"},
		{name: "null timestamp", target: "Logs_20140328.PutLogEvents", auth: sigv4, body: `{"logGroupName":"a","logStreamName":"b","logEvents":[{"message":"x"}]}`,
			status: 400, code: "InvalidParameterException", msg: "1 validation error detected: Value null at 'logEvents.1.member.timestamp' failed to satisfy constraint: Member must not be null"},
		{name: "ok", target: "Logs_20140328.DescribeLogGroups", auth: sigv4, body: "", status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, errType, payload := raw(t, url, tt.target, tt.auth, tt.body)
			if status != tt.status || errType != tt.code {
				t.Errorf("status %d, X-Amzn-ErrorType %q; want %d, %q", status, errType, tt.status, tt.code)
			}
			if tt.code != "" && (payload["__type"] != tt.code || (tt.msg != "" && payload["message"] != tt.msg)) {
				t.Errorf("body %v, want __type %q message %q", payload, tt.code, tt.msg)
			}
		})
	}
}

func TestRejectedAccessKey(t *testing.T) {
	t.Parallel()
	srv, good := start(t, cwlemu.Options{})
	bad := client(aws.ToString(good.Options().BaseEndpoint), "AKIDREVOKED", 1)
	srv.RejectAccessKey("AKIDREVOKED")
	ctx := context.Background()
	_, err := bad.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("app")})
	wantAPIError(t, err, "UnrecognizedClientException", "The security token included in the request is invalid.")
	if _, err := good.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	srv.RejectAccessKey("")
	if _, err := bad.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("s")}); err != nil {
		t.Fatalf("after clearing: %v", err)
	}
}

func TestFailGroup(t *testing.T) {
	t.Parallel()
	srv, c := start(t, cwlemu.Options{})
	setup(t, c, "app", "web")
	setup(t, c, "other", "web")
	srv.FailGroup("app", "AccessDeniedException", "User is not authorized to perform: logs:PutLogEvents")
	ctx := context.Background()
	calls := map[string]func() error{
		"PutLogEvents": func() error {
			_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("web"), LogEvents: events(now)})
			return err
		},
		"CreateLogStream": func() error {
			_, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("new")})
			return err
		},
		"DescribeLogStreams": func() error {
			_, err := c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("app")})
			return err
		},
		"TagResource": func() error {
			_, err := c.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String("arn:aws:logs:eu-west-1:123456789012:log-group:app"), Tags: map[string]string{"a": "b"}})
			return err
		},
	}
	for name, call := range calls {
		err := call()
		var denied *types.AccessDeniedException
		if !errors.As(err, &denied) {
			t.Errorf("%s: err = %v, want AccessDeniedException", name, err)
		}
		wantAPIError(t, err, "AccessDeniedException", "User is not authorized to perform: logs:PutLogEvents")
	}
	put(t, c, "other", "web", events(now))
	srv.FailGroup("app", "", "")
	for name, call := range calls {
		if err := call(); err != nil {
			t.Errorf("%s after clearing: %v", name, err)
		}
	}
}

// outcomes puts n times and returns one letter per answer: . ok, T throttled, S server error.
// TestGroupQuota: at the account's log-group quota CreateLogGroup answers
// LimitExceededException, and only it (puts and streams of existing groups go
// on); "already exists" still wins, and deleting a group makes room again.
func TestGroupQuota(t *testing.T) {
	t.Parallel()
	srv, c := start(t, cwlemu.Options{})
	ctx := context.Background()
	setup(t, c, "a", "web")
	setup(t, c, "b")
	srv.SetGroupQuota(2)
	create := func(name string) error {
		_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(name)})
		return err
	}
	err := create("c")
	var limit *types.LimitExceededException
	if !errors.As(err, &limit) {
		t.Fatalf("create past the quota: err = %v, want LimitExceededException", err)
	}
	wantAPIError(t, err, "LimitExceededException", "Resource limit exceeded.")
	wantAPIError(t, create("a"), "ResourceAlreadyExistsException", "The specified log group already exists")
	put(t, c, "a", "web", events(now))
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("b"), LogStreamName: aws.String("web")}); err != nil {
		t.Errorf("stream of an existing group at the quota: %v", err)
	}
	srv.DeleteGroup("b")
	if err := create("c"); err != nil {
		t.Errorf("create once a group is deleted: %v", err)
	}
	wantAPIError(t, create("d"), "LimitExceededException", "Resource limit exceeded.")
	srv.SetGroupQuota(0)
	if err := create("d"); err != nil {
		t.Errorf("create without a quota: %v", err)
	}
}

func outcomes(t *testing.T, c *cloudwatchlogs.Client, n int) string {
	t.Helper()
	var b strings.Builder
	for range n {
		_, err := c.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("web"), LogEvents: events(now)})
		var ae smithy.APIError
		var unavailable *types.ServiceUnavailableException
		switch {
		case err == nil:
			b.WriteByte('.')
		case errors.As(err, &ae) && ae.ErrorCode() == "ThrottlingException" && ae.ErrorMessage() == "Rate exceeded":
			b.WriteByte('T')
		case errors.As(err, &unavailable):
			b.WriteByte('S')
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	return b.String()
}

func TestFaultRates(t *testing.T) {
	t.Parallel()
	const n = 400
	run := func(seed int64) (string, *cwlemu.Server) {
		srv, c := start(t, cwlemu.Options{Seed: seed})
		setup(t, c, "app", "web")
		srv.SetFaults(cwlemu.Faults{ThrottleRate: 0.2, ServerErrorRate: 0.1})
		return outcomes(t, c, n), srv
	}
	a, srv := run(7)
	b, _ := run(7)
	other, _ := run(8)
	if a != b {
		t.Errorf("same seed, different faults:\n%s\n%s", a, b)
	}
	if a == other {
		t.Error("different seeds, same faults")
	}
	throttled, failed, ok := strings.Count(a, "T"), strings.Count(a, "S"), strings.Count(a, ".")
	if throttled < n*10/100 || throttled > n*30/100 || failed < n*4/100 || failed > n*16/100 {
		t.Errorf("%d throttled, %d failed of %d: want about 20%% and 10%%", throttled, failed, n)
	}
	if got := len(srv.Events("app", "web")); got != ok {
		t.Errorf("stored %d events for %d accepted puts", got, ok)
	}
	if got := srv.Calls()["PutLogEvents"]; got != n {
		t.Errorf("Calls = %d, want %d", got, n)
	}
}

func TestResetRestartsFaultSequence(t *testing.T) {
	t.Parallel()
	srv, c := start(t, cwlemu.Options{Seed: 3})
	var runs []string
	for range 2 {
		setup(t, c, "app", "web")
		srv.SetFaults(cwlemu.Faults{ThrottleRate: 0.3, ServerErrorRate: 0.3})
		runs = append(runs, outcomes(t, c, 50))
		srv.Reset()
	}
	if runs[0] != runs[1] || !strings.ContainsAny(runs[0], "TS") {
		t.Errorf("after Reset the faults differ or never happen:\n%s\n%s", runs[0], runs[1])
	}
}

func TestFaultsApplyToWritesOnly(t *testing.T) {
	t.Parallel()
	srv, c := start(t, cwlemu.Options{})
	setup(t, c, "app", "web")
	srv.SetFaults(cwlemu.Faults{ThrottleRate: 1})
	ctx := context.Background()
	_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("x")})
	wantAPIError(t, err, "ThrottlingException", "Rate exceeded")
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("x")})
	wantAPIError(t, err, "ThrottlingException", "Rate exceeded")
	if _, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{}); err != nil {
		t.Errorf("DescribeLogGroups: %v", err)
	}
	if _, err := c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("app"), RetentionInDays: aws.Int32(7)}); err != nil {
		t.Errorf("PutRetentionPolicy: %v", err)
	}
}

func TestSDKRetriesServerErrors(t *testing.T) {
	t.Parallel()
	srv, c := start(t, cwlemu.Options{})
	setup(t, c, "app", "web")
	retrying := client(aws.ToString(c.Options().BaseEndpoint), "AKIDTEST", 3)
	tests := []struct {
		name   string
		faults cwlemu.Faults
		status int
	}{
		{name: "server error", faults: cwlemu.Faults{ServerErrorRate: 1}, status: 500},
		{name: "throttling", faults: cwlemu.Faults{ThrottleRate: 1}, status: 400},
		{name: "down", faults: cwlemu.Faults{Down: true}, status: 503},
	}
	for _, tt := range tests {
		srv.SetFaults(tt.faults)
		before := srv.Calls()["PutLogEvents"]
		_, err := retrying.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("web"), LogEvents: events(now)})
		var re interface{ HTTPStatusCode() int }
		if !errors.As(err, &re) || re.HTTPStatusCode() != tt.status {
			t.Errorf("%s: err = %v, want HTTP %d", tt.name, err, tt.status)
		}
		if got := srv.Calls()["PutLogEvents"] - before; got != 3 {
			t.Errorf("%s: %d attempts, want the SDK's 3", tt.name, got)
		}
	}
	srv.SetFaults(cwlemu.Faults{})
	if len(srv.Events("app", "web")) != 0 {
		t.Error("a failed put stored events")
	}
}

func TestCloseAndListenAgain(t *testing.T) {
	t.Parallel()
	srv := cwlemu.New(cwlemu.Options{Now: func() time.Time { return now }})
	url, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if _, err := srv.Listen("127.0.0.1:0"); err == nil {
		t.Error("second Listen while listening succeeded")
	}
	c := client(url, "AKIDTEST", 1)
	setup(t, c, "app", "web")
	put(t, c, "app", "web", events(now))
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	// The first attempt may still find the closed keep-alive connection; from then
	// on nothing listens.
	for i := range 2 {
		_, err = c.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("web"), LogEvents: events(now)})
		var ae smithy.APIError
		if err == nil || errors.As(err, &ae) {
			t.Fatalf("while closed: err = %v, want a transport error", err)
		}
		if i == 1 && !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("while closed: err = %v, want connection refused", err)
		}
	}
	again, err := srv.Listen(strings.TrimPrefix(url, "http://"))
	if err != nil || again != url {
		t.Fatalf("Listen again = %q, %v", again, err)
	}
	put(t, c, "app", "web", events(now))
	if got := len(srv.Events("app", "web")); got != 2 {
		t.Errorf("events after resuming = %d, want 2", got)
	}
}

func TestReset(t *testing.T) {
	t.Parallel()
	srv, c := start(t, cwlemu.Options{})
	setup(t, c, "app", "web")
	srv.SetFaults(cwlemu.Faults{Down: true})
	srv.FailGroup("x", "AccessDeniedException", "no")
	srv.SetGroupQuota(1)
	srv.Reset()
	if len(srv.Groups()) != 0 || len(srv.Calls()) != 0 {
		t.Errorf("after Reset: groups %v, calls %v", srv.Groups(), srv.Calls())
	}
	setup(t, c, "x", "web")
	setup(t, c, "y")
}

func TestLatency(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := cwlemu.New(cwlemu.Options{})
		srv.SetFaults(cwlemu.Faults{Latency: time.Minute})
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", "Logs_20140328.DescribeLogGroups")
		req.Header.Set("Authorization", sigv4)
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			srv.ServeHTTP(rec, req)
			close(done)
		}()
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("answered before the latency")
		default:
		}
		time.Sleep(time.Minute)
		<-done
		if rec.Code != http.StatusOK {
			t.Errorf("status %d", rec.Code)
		}
	})
}
