package lambda_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
	"github.com/drainpipe/drainpipe/dynamodb"
	"github.com/drainpipe/drainpipe/dynamodb/ddbemu"
	"github.com/drainpipe/drainpipe/internal/awsemu"
	"github.com/drainpipe/drainpipe/lambda"
)

// dedupEnv is an env whose function recognises retried batches in the
// DynamoDB double.
func dedupEnv(t *testing.T) (*env, *ddbemu.Server) {
	t.Helper()
	emu := ddbemu.New()
	emu.CreateTable("dedup", "pk", "S")
	url, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	c := awsddb.New(awsddb.Options{BaseEndpoint: aws.String(url), Region: "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer:     retry.AddWithMaxAttempts(retry.NewStandard(), 1)})
	e := newEnv(t, func(c2 *lambda.Config) { c2.Dedup = dynamodb.New(c, "dedup", nil) })
	return e, emu
}

// TestRetriedBatchDeliveredOnce: logplex's retry of a delivered batch (same
// Logplex-Frame-Id) is answered 204 without a second copy in CloudWatch; a
// batch whose delivery failed is delivered by its retry.
func TestRetriedBatchDeliveredOnce(t *testing.T) {
	t.Parallel()
	e, ddb := dedupEnv(t)
	body := realistic(t)
	send := func(frame string) lambda.Response {
		return e.invoke(t, 3*time.Second, urlEvent(map[string]string{"authorization": e.basic(), "logplex-frame-id": frame}, body, true))
	}
	for range 2 {
		if resp := send("aaaa0000aaaa0000aaaa0000aaaa0000"); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("answer %d %q", resp.StatusCode, resp.Body)
		}
	}
	if got := groupLines(e.emu, "/heroku/myapp"); len(got) != 38 {
		t.Fatalf("%d events after a batch and its retry, want 38", len(got))
	}
	e.emu.SetFaults(cwlemu.Faults{Down: true})
	if resp := send("bbbb0000bbbb0000bbbb0000bbbb0000"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("CloudWatch down: %d", resp.StatusCode)
	}
	e.emu.SetFaults(cwlemu.Faults{})
	if resp := send("bbbb0000bbbb0000bbbb0000bbbb0000"); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("retry after a failed delivery: %d %q (its claim was not released?)", resp.StatusCode, resp.Body)
	}
	if got := groupLines(e.emu, "/heroku/myapp"); len(got) != 76 {
		t.Fatalf("%d events, want 76", len(got))
	}
	if keys := ddb.Keys("dedup"); len(keys) != 2 {
		t.Errorf("dedup items %v, want one per batch", keys)
	}
}

// TestRetryWhileDelivering: a retry arriving while the first try still
// delivers is answered 503, so logplex comes back once the first try is done.
func TestRetryWhileDelivering(t *testing.T) {
	t.Parallel()
	e, _ := dedupEnv(t)
	e.emu.SetFaults(cwlemu.Faults{Latency: 300 * time.Millisecond})
	ev := urlEvent(map[string]string{"authorization": e.basic(), "logplex-frame-id": "cccc0000cccc0000cccc0000cccc0000"}, realistic(t), true)
	first := make(chan lambda.Response)
	go func() { first <- e.invoke(t, 10*time.Second, ev) }()
	deadline := time.Now().Add(10 * time.Second)
	for e.emu.Calls()["PutLogEvents"] == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // wait for the first try to be delivering
	}
	if resp := e.invoke(t, 10*time.Second, ev); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("retry while delivering: %d, want 503", resp.StatusCode)
	}
	if resp := <-first; resp.StatusCode != http.StatusNoContent {
		t.Fatalf("first try: %d", resp.StatusCode)
	}
	e.emu.SetFaults(cwlemu.Faults{})
	if resp := e.invoke(t, 10*time.Second, ev); resp.StatusCode != http.StatusNoContent {
		t.Errorf("retry after: %d", resp.StatusCode)
	}
	if got := groupLines(e.emu, "/heroku/myapp"); len(got) != 38 {
		t.Errorf("%d events, want 38", len(got))
	}
}

// TestDedupDownDeliversAnyway: with DynamoDB down the batch is delivered (at
// worst twice), never refused.
func TestDedupDownDeliversAnyway(t *testing.T) {
	t.Parallel()
	e, ddb := dedupEnv(t)
	ddb.SetFaults(awsemu.Faults{Down: true})
	resp := e.invoke(t, 5*time.Second, urlEvent(map[string]string{"authorization": e.basic(), "logplex-frame-id": "dddd"}, realistic(t), true))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("answer %d %q", resp.StatusCode, resp.Body)
	}
}
