package dynamodb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/drainpipe/drainpipe/dynamodb"
	"github.com/drainpipe/drainpipe/dynamodb/ddbemu"
	"github.com/drainpipe/drainpipe/internal/awsemu"
	"github.com/drainpipe/drainpipe/internal/testclock"
	"github.com/drainpipe/drainpipe/lambda"
)

// newEnv is the DynamoDB double with the table the template makes, and the
// real SDK client on it.
func newEnv(t *testing.T) (*ddbemu.Server, *awsddb.Client) {
	t.Helper()
	emu := ddbemu.New()
	emu.CreateTable("dedup", "pk", "S")
	url, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	c, err := dynamodb.NewClient(context.Background(), func(o *awsddb.Options) {
		o.BaseEndpoint, o.Region = aws.String(url), "eu-west-1"
		o.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
		o.Retryer = retry.AddWithMaxAttempts(retry.NewStandard(), 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	return emu, c
}

// TestClaimLifecycle: a batch is claimed once; while the claim lives a retry is
// busy; once done, a retry is recognised; a released claim can be taken again;
// an expired claim or record counts as absent.
func TestClaimLifecycle(t *testing.T) {
	t.Parallel()
	emu, c := newEnv(t)
	ctx := context.Background()
	clk := testclock.New(time.Unix(1_800_000_000, 0))
	first, second := dynamodb.New(c, "dedup", clk.Now), dynamodb.New(c, "dedup", clk.Now) // two instances
	key := "d_abc/0123456789abcdef"
	until := clk.Now().Add(5 * time.Second)

	if done, err := first.Claim(ctx, key, until); done || err != nil {
		t.Fatalf("first claim: %v %v", done, err)
	}
	if item, _ := emu.Item("dedup", key); item["state"] != "delivering" || item["owner"] == "" {
		t.Errorf("claimed item %v", item)
	}
	if _, err := second.Claim(ctx, key, until); !errors.Is(err, lambda.ErrBusy) {
		t.Fatalf("claim while claimed: %v, want ErrBusy", err)
	}
	if err := second.Release(ctx, key); err != nil { // not its claim: nothing happens
		t.Fatal(err)
	}
	if err := first.Done(ctx, key); err != nil {
		t.Fatal(err)
	}
	if done, err := second.Claim(ctx, key, until); !done || err != nil {
		t.Fatalf("claim after done: %v %v, want done", done, err)
	}

	other := "d_abc/fedcba9876543210"
	first.Claim(ctx, other, until)
	if err := first.Release(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, ok := emu.Item("dedup", other); ok {
		t.Error("released claim still stored")
	}
	if done, err := second.Claim(ctx, other, until); done || err != nil {
		t.Fatalf("claim after release: %v %v", done, err)
	}
	clk.Add(6 * time.Second) // second's claim ran out with its invocation
	if done, err := first.Claim(ctx, other, clk.Now().Add(5*time.Second)); done || err != nil {
		t.Fatalf("claim after an expired claim: %v %v", done, err)
	}
	clk.Add(dynamodb.Window + time.Second) // the delivered record expired, still readable
	if _, ok := emu.Item("dedup", key); !ok {
		t.Fatal("the double deleted an expired item; DynamoDB does not promise to")
	}
	if done, err := first.Claim(ctx, key, clk.Now().Add(5*time.Second)); done || err != nil {
		t.Fatalf("claim after the window: %v %v, want a fresh claim", done, err)
	}
}

// TestDedupErrors: DynamoDB failing is an error of its own (the function then
// delivers without de-duplication); a missing table too.
func TestDedupErrors(t *testing.T) {
	t.Parallel()
	emu, c := newEnv(t)
	ctx := context.Background()
	if _, err := dynamodb.New(c, "missing", nil).Claim(ctx, "k", time.Now().Add(time.Second)); err == nil || errors.Is(err, lambda.ErrBusy) {
		t.Errorf("missing table: %v", err)
	}
	emu.SetFaults(awsemu.Faults{Down: true})
	d := dynamodb.New(c, "dedup", nil)
	if _, err := d.Claim(ctx, "k", time.Now().Add(time.Second)); err == nil || errors.Is(err, lambda.ErrBusy) {
		t.Errorf("DynamoDB down: %v", err)
	}
	if err := d.Done(ctx, "k"); err == nil {
		t.Error("Done while down reported success")
	}
}
