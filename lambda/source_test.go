package lambda_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/drainpipe/drainpipe/internal/awsemu"
	"github.com/drainpipe/drainpipe/internal/testclock"
	"github.com/drainpipe/drainpipe/lambda"
	"github.com/drainpipe/drainpipe/ssm"
	"github.com/drainpipe/drainpipe/ssm/ssmemu"
)

// paramEnv is the Parameter Store double with the real SDK client on it.
func paramEnv(t *testing.T) (*ssmemu.Server, *awsssm.Client) {
	t.Helper()
	emu := ssmemu.New(ssmemu.Options{})
	url, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	c, err := ssm.NewClient(context.Background(), func(o *awsssm.Options) {
		o.BaseEndpoint, o.Region = aws.String(url), "us-east-1"
		o.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
		o.Retryer = retry.AddWithMaxAttempts(retry.NewStandard(), 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	return emu, c
}

func newClock() *testclock.Clock                   { return testclock.New(time.Unix(1_800_000_000, 0)) }
func addDrain(d *lambda.Drains, app string) string { _, s, _ := d.Add(app, time.Now()); return s }

// TestDrainsFromSSM: the drains come from the SecureString named at cold start;
// a drain added since is found by its first request (at most one read every
// MinInterval); a removed one stops working once the drains are MaxAge old.
func TestDrainsFromSSM(t *testing.T) {
	t.Parallel()
	emu, c := paramEnv(t)
	ctx := context.Background()
	d, _ := lambda.ParseDrains("")
	first := addDrain(d, "myapp")
	if err := ssm.Put(ctx, c, "/drainpipe/drains", d.String()); err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	src, err := lambda.LoadDrains(ctx, "ssm:/drainpipe/drains", c, lambda.SourceOptions{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.For(ctx).Authenticate(first); !ok {
		t.Fatal("the drain in the parameter is refused")
	}
	added := addDrain(d, "newapp")
	ssm.Put(ctx, c, "/drainpipe/drains", d.String())
	if _, ok := src.For(ctx).Authenticate(added); ok {
		t.Fatal("a read within MinInterval of the cold start")
	}
	clk.Add(lambda.DefaultMinInterval)
	if dr, ok := src.For(ctx).Authenticate(added); !ok || dr.App != "newapp" {
		t.Fatal("a drain added since the cold start is refused")
	}
	reads := emu.Calls()["GetParameter"]
	for range 5 {
		src.For(ctx).Authenticate("wrong secret")
	}
	if n := emu.Calls()["GetParameter"] - reads; n != 0 {
		t.Errorf("wrong secrets made %d reads within MinInterval", n)
	}
	d.Remove("myapp")
	ssm.Put(ctx, c, "/drainpipe/drains", d.String())
	src.Refresh(ctx)
	if _, ok := src.For(ctx).Authenticate(first); !ok {
		t.Error("drains read again before MaxAge")
	}
	clk.Add(lambda.DefaultMaxAge)
	src.Refresh(ctx)
	if _, ok := src.Drains().Authenticate(first); ok {
		t.Error("a removed drain still works after MaxAge")
	}
}

// TestDrainsFromSSMFailures: a parameter not made yet is an empty set; one that
// cannot be read at cold start stops the start; one that cannot be read later
// leaves the drains read before in force.
func TestDrainsFromSSMFailures(t *testing.T) {
	t.Parallel()
	emu, c := paramEnv(t)
	ctx := context.Background()
	src, err := lambda.LoadDrains(ctx, "ssm:/drainpipe/none", c, lambda.SourceOptions{})
	if err != nil || len(src.Drains().List()) != 0 {
		t.Fatalf("missing parameter: %v", err)
	}
	d, _ := lambda.ParseDrains("")
	secret := addDrain(d, "myapp")
	ssm.Put(ctx, c, "/drainpipe/drains", d.String())
	ssm.Put(ctx, c, "/drainpipe/bad", "myapp:not-a-drain")
	if _, err := lambda.LoadDrains(ctx, "ssm:/drainpipe/bad", c, lambda.SourceOptions{}); err == nil || !strings.Contains(err.Error(), "want app:id:hash") {
		t.Errorf("a bad parameter: %v", err)
	}
	if _, err := lambda.LoadDrains(ctx, "ssm:", c, lambda.SourceOptions{}); err == nil {
		t.Error("ssm: with no name accepted")
	}
	clk := newClock()
	src, err = lambda.LoadDrains(ctx, "ssm:/drainpipe/drains", c, lambda.SourceOptions{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	emu.SetFaults(awsemu.Faults{Down: true})
	if _, err := lambda.LoadDrains(ctx, "ssm:/drainpipe/drains", c, lambda.SourceOptions{}); err == nil || errors.Is(err, ssm.ErrNotFound) {
		t.Errorf("SSM down at cold start: %v, want an error", err)
	}
	if err := src.For(ctx).Health(); err != nil {
		t.Errorf("healthy before a read failed: %v", err)
	}
	clk.Add(lambda.DefaultMaxAge)
	src.Refresh(ctx)
	if _, ok := src.For(ctx).Authenticate(secret); !ok {
		t.Error("SSM down: the drains read before are gone")
	}
	if err := src.For(ctx).Health(); err == nil {
		t.Error("SSM down: the drains say they know every secret")
	}
	emu.SetFaults(awsemu.Faults{})
	clk.Add(lambda.DefaultMinInterval)
	if _, ok := src.For(ctx).Authenticate("unknown"); ok {
		t.Error("an unknown secret accepted")
	}
	if err := src.For(ctx).Health(); err != nil {
		t.Errorf("SSM back and read again: %v", err)
	}
}

// TestInlineDrains: a value that holds the drains needs no SSM and is checked
// at start.
func TestInlineDrains(t *testing.T) {
	t.Parallel()
	d, _ := lambda.ParseDrains("")
	secret := addDrain(d, "myapp")
	src, err := lambda.LoadDrains(context.Background(), d.String(), nil, lambda.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.For(context.Background()).Authenticate(secret); !ok {
		t.Error("inline drain refused")
	}
	if err := src.For(context.Background()).Health(); err != nil {
		t.Errorf("inline drains unhealthy: %v", err)
	}
	if _, err := lambda.LoadDrains(context.Background(), "myapp:d_x", nil, lambda.SourceOptions{}); err == nil || !strings.Contains(err.Error(), "DRAINPIPE_LAMBDA_DRAINS") {
		t.Errorf("bad value: %v", err)
	}
}

// TestUnreadableDrainsAre503: while the drains' parameter cannot be read, a
// request whose secret the drains in force do not know may be from a drain
// added since: the function answers it 503 with Retry-After (logplex retries),
// as the server answers for a drain store that lost its drains, not 401 (which
// logplex takes as final); a drain it knows is delivered as ever; once SSM
// answers again, a wrong secret is a 401.
func TestUnreadableDrainsAre503(t *testing.T) {
	t.Parallel()
	ssmEmu, c := paramEnv(t)
	ctx := context.Background()
	d, _ := lambda.ParseDrains("")
	secret := addDrain(d, "myapp")
	id := d.List()[0].ID
	if err := ssm.Put(ctx, c, "/drainpipe/drains", d.String()); err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	src, err := lambda.LoadDrains(ctx, "ssm:/drainpipe/drains", c, lambda.SourceOptions{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *lambda.Config) { c.Drains = src })
	added := addDrain(d, "newapp") // not in the parameter: SSM is down before it is written
	ssmEmu.SetFaults(awsemu.Faults{Down: true})
	clk.Add(lambda.DefaultMinInterval)
	body := realistic(t)
	resp := e.invoke(t, 10*time.Second, urlEvent(map[string]string{"authorization": "Basic " + b64(id+":"+added)}, body, true))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Headers["retry-after"] == "" || resp.Headers["www-authenticate"] != "" {
		t.Errorf("unknown secret, SSM down: %d %v %q, want 503 with Retry-After", resp.StatusCode, resp.Headers, resp.Body)
	}
	resp = e.invoke(t, 10*time.Second, urlEvent(map[string]string{"authorization": "Basic " + b64(id+":"+secret)}, body, true))
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("known secret, SSM down: %d %q, want 204", resp.StatusCode, resp.Body)
	}
	ssmEmu.SetFaults(awsemu.Faults{})
	clk.Add(lambda.DefaultMinInterval)
	resp = e.invoke(t, 10*time.Second, urlEvent(map[string]string{"authorization": "Basic " + b64(id+":wrong")}, body, true))
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong secret, SSM back: %d %q, want 401", resp.StatusCode, resp.Body)
	}
	if got := groupLines(e.emu, "/heroku/myapp"); len(got) != 38 {
		t.Errorf("%d events in CloudWatch, want the 38 of the one batch taken", len(got))
	}
}
