package ssm_test

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
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/drainpipe/drainpipe/internal/awsemu"
	"github.com/drainpipe/drainpipe/ssm"
	"github.com/drainpipe/drainpipe/ssm/ssmemu"
)

// newEnv is the Parameter Store double on a socket and the real SDK client,
// with static credentials, pointed at it.
func newEnv(t *testing.T) (*ssmemu.Server, *awsssm.Client, string) {
	t.Helper()
	emu := ssmemu.New(ssmemu.Options{Region: "eu-west-1"})
	url, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	c, err := ssm.NewClient(context.Background(), func(o *awsssm.Options) {
		o.BaseEndpoint = aws.String(url)
		o.Region = "eu-west-1"
		o.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
		o.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), time.Millisecond)
	})
	if err != nil {
		t.Fatal(err)
	}
	return emu, c, url
}

// TestPutGet: what Put stores, Get returns decrypted; each Put is a new version
// of a SecureString in the tier its size needs.
func TestPutGet(t *testing.T) {
	t.Parallel()
	emu, c, _ := newEnv(t)
	ctx := context.Background()
	for i, value := range []string{"myapp:d_one:hash", "myapp:d_one:hash,other:d_two:hash2", strings.Repeat("x", 5000)} {
		if err := ssm.Put(ctx, c, "/drainpipe/drains", value); err != nil {
			t.Fatal(err)
		}
		got, err := ssm.Get(ctx, c, "/drainpipe/drains")
		if err != nil || got != value {
			t.Fatalf("put %d: Get = %.40q, %v", i, got, err)
		}
		p, _ := emu.Parameter("/drainpipe/drains")
		wantTier := "Standard"
		if len(value) > 4096 {
			wantTier = "Advanced"
		}
		if p.Type != "SecureString" || p.Version != int64(i+1) || p.Tier != wantTier || p.KeyID != "alias/aws/ssm" {
			t.Errorf("put %d: stored %s v%d %s %s", i, p.Type, p.Version, p.Tier, p.KeyID)
		}
	}
	byARN, err := ssm.Get(ctx, c, "arn:aws:ssm:eu-west-1:123456789012:parameter/drainpipe/drains")
	if err != nil || len(byARN) != 5000 {
		t.Errorf("Get by ARN = %d bytes, %v", len(byARN), err)
	}
}

// TestGetErrors: a missing parameter is ErrNotFound; an outage is an error of
// its own, never taken for "no drains".
func TestGetErrors(t *testing.T) {
	t.Parallel()
	emu, c, _ := newEnv(t)
	ctx := context.Background()
	if _, err := ssm.Get(ctx, c, "/drainpipe/none"); !errors.Is(err, ssm.ErrNotFound) {
		t.Errorf("Get missing = %v, want ErrNotFound", err)
	}
	emu.SetFaults(awsemu.Faults{Down: true})
	if _, err := ssm.Get(ctx, c, "/drainpipe/none"); err == nil || errors.Is(err, ssm.ErrNotFound) {
		t.Errorf("Get while down = %v, want an outage error", err)
	}
	emu.SetFaults(awsemu.Faults{ThrottleRate: 0.5})
	if err := ssm.Put(ctx, c, "/p", "v"); err != nil {
		t.Errorf("Put under throttling (the SDK retries) = %v", err)
	}
}

// TestEmulatorFollowsTheService: the documented rules the double keeps, checked
// through the real SDK.
func TestEmulatorFollowsTheService(t *testing.T) {
	t.Parallel()
	emu, c, _ := newEnv(t)
	ctx := context.Background()
	put := func(name, value, typ string, overwrite bool) error {
		_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value),
			Type: types.ParameterType(typ), Overwrite: aws.Bool(overwrite)})
		return err
	}
	if err := put("/a/secret", "text", "SecureString", false); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/a/secret")})
	if err != nil || *out.Parameter.Value == "text" || out.Parameter.Type != types.ParameterTypeSecureString {
		t.Errorf("SecureString without decryption came back as %q, %v", aws.ToString(out.Parameter.Value), err)
	}
	var exists *types.ParameterAlreadyExists
	if err := put("/a/secret", "new", "SecureString", false); !errors.As(err, &exists) {
		t.Errorf("put over an existing parameter without Overwrite = %v", err)
	}
	for _, name := range []string{"awsthing", "/ssm/x", "a/b", "/a b", "/" + strings.Repeat("l/", 15) + "x"} {
		if err := put(name, "v", "String", false); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	if err := put("/big", strings.Repeat("x", 4097), "String", false); err == nil || !strings.Contains(err.Error(), "4096") {
		t.Errorf("4097 bytes in the Standard tier = %v", err)
	}
	if err := put("/p", "v", "Number", false); err == nil {
		t.Error("type Number accepted")
	}
	if _, ok := emu.Parameter("/a/secret"); !ok {
		t.Error("parameter not stored")
	}
	if n := emu.Calls()["PutParameter"]; n != 9 {
		t.Errorf("%d PutParameter calls counted, want 9", n)
	}
}

// TestEmulatorWire: what the SDK never sends still gets the service's answers.
func TestEmulatorWire(t *testing.T) {
	t.Parallel()
	_, _, url := newEnv(t)
	for _, tc := range []struct {
		target, auth, body, wantType string
		wantStatus                   int
	}{
		{"AmazonSSM.GetParameter", "", `{"Name":"/x"}`, "UnrecognizedClientException", 400},
		{"AmazonSSM.DeleteParameter", "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/ssm/aws4_request", `{}`, "InvalidAction", 400},
		{"AmazonSSM.GetParameter", "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/ssm/aws4_request", `{"Name":`, "SerializationException", 400},
		{"Logs_20140328.PutLogEvents", "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/ssm/aws4_request", `{}`, "UnknownOperationException", 400},
	} {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(tc.body))
		req.Header.Set("X-Amz-Target", tc.target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.wantStatus || resp.Header.Get("X-Amzn-ErrorType") != tc.wantType {
			t.Errorf("%s: %d %s, want %d %s", tc.target, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), tc.wantStatus, tc.wantType)
		}
	}
}
