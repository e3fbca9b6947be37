package lambda_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/drainpipe/drainpipe/cloudwatch"
	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
	"github.com/drainpipe/drainpipe/internal/logplextest"
	"github.com/drainpipe/drainpipe/internal/testfixtures"
	"github.com/drainpipe/drainpipe/lambda"
	"github.com/drainpipe/drainpipe/metrics"
)

// env is a Function delivering to the CloudWatch emulator through the real SDK
// and the real CloudWatch sink in Inline mode, with one drain for "myapp".
type env struct {
	emu    *cwlemu.Server
	fn     *lambda.Function
	id     string
	secret string
	log    *syncBuffer
}

func newEnv(t testing.TB, mod func(c *lambda.Config)) *env {
	t.Helper()
	emu := cwlemu.New(cwlemu.Options{Seed: 1})
	url, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	client, err := cloudwatch.NewClient(context.Background(), "eu-west-1", url, func(o *cloudwatchlogs.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond)
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{emu: emu, log: &syncBuffer{}}
	logger := slog.New(lambda.LogHandler(slog.NewJSONHandler(e.log, nil)))
	sink, err := cloudwatch.New(cloudwatch.Config{Client: client, Inline: true, BackoffMin: time.Millisecond,
		BackoffMax: 20 * time.Millisecond, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	ds, _ := lambda.ParseDrains("")
	dr, secret, err := ds.Add("myapp", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.id, e.secret = dr.ID, secret
	src, err := lambda.LoadDrains(context.Background(), ds.String(), nil, lambda.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := lambda.Config{Drains: src, CloudWatch: sink, Metrics: &metrics.Config{}, Logger: logger}
	if mod != nil {
		mod(&cfg)
	}
	if e.fn, err = lambda.New(cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

// invoke runs one invocation with a deadline, as Lambda gives every one.
func (e *env) invoke(t testing.TB, timeout time.Duration, raw json.RawMessage) lambda.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp, err := e.fn.Invoke(ctx, raw)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	return resp
}

// basic is the Authorization header logplex sends for the drain URL's userinfo.
func (e *env) basic() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(e.id+":"+e.secret))
}

// urlEvent is a Function URL event for a POST of body, as AWS sends it: header
// names in lower case, a binary body in base64.
func urlEvent(headers map[string]string, body []byte, b64 bool) json.RawMessage {
	ev := events.LambdaFunctionURLRequest{Version: "2.0", RawPath: "/logs", Headers: headers}
	ev.RequestContext.HTTP.Method = "POST"
	ev.RequestContext.HTTP.SourceIP = "203.0.113.7"
	ev.RequestContext.DomainName = "abc123.lambda-url.eu-west-1.on.aws"
	ev.Body, ev.IsBase64Encoded = string(body), b64
	if b64 {
		ev.Body = base64.StdEncoding.EncodeToString(body)
	}
	raw, _ := json.Marshal(ev)
	return raw
}

// gatewayEvent is an API Gateway HTTP API (payload 2.0) event on a stage.
func gatewayEvent(headers map[string]string, body []byte) json.RawMessage {
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "POST /logs", RawPath: "/prod/logs", Headers: headers,
		Body: base64.StdEncoding.EncodeToString(body), IsBase64Encoded: true}
	ev.RequestContext.HTTP.Method = "POST"
	ev.RequestContext.Stage = "prod"
	raw, _ := json.Marshal(ev)
	return raw
}

// realistic is the realistic Heroku fixture with its timestamps moved into
// CloudWatch's window.
func realistic(t testing.TB) []byte {
	t.Helper()
	body := testfixtures.Read(t, "heroku-drain-realistic.logplex")
	return logplextest.Recent(body, time.Now().Add(-time.Minute), time.Second)
}

// groupLines returns every event of group, across its streams but metrics'.
func groupLines(emu *cwlemu.Server, group string) []string {
	var out []string
	for _, g := range emu.Groups() {
		if g.Name != group {
			continue
		}
		for _, st := range g.Streams {
			if st == cloudwatch.EMFStream {
				continue
			}
			for _, ev := range emu.Events(group, st) {
				out = append(out, ev.Message)
			}
		}
	}
	return out
}

// ownGoroutines lists, at once, the goroutines running the function's or the
// sink's code that are not a test's own.
func ownGoroutines(t testing.TB) []string {
	t.Helper()
	var b strings.Builder
	if err := pprof.Lookup("goroutine").WriteTo(&b, 2); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range strings.Split(b.String(), "\n\n") {
		if (strings.Contains(g, "drainpipe/lambda.") || strings.Contains(g, "drainpipe/cloudwatch.") ||
			strings.Contains(g, "drainpipe/httpd.")) && !strings.Contains(g, "testing.tRunner") {
			out = append(out, g)
		}
	}
	return out
}

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// lambdaContext is an invocation's context as aws-lambda-go makes it.
func lambdaContext(requestID string) context.Context {
	return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: requestID})
}
