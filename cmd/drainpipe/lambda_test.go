package main_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/cloudwatch"
	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
	"github.com/drainpipe/drainpipe/dynamodb/ddbemu"
	"github.com/drainpipe/drainpipe/internal/logplextest"
	"github.com/drainpipe/drainpipe/internal/testfixtures"
	"github.com/drainpipe/drainpipe/ssm/ssmemu"
	"github.com/drainpipe/drainpipe/verify"
)

// lambdaDrain is a drain made by `drainpipe lambda drains add --json`.
type lambdaDrain struct {
	App, ID, URL, Env string
	secret            string
}

// addLambdaDrain runs `drainpipe lambda drains add` with extra arguments.
func addLambdaDrain(t testing.TB, env []string, app, base string, args ...string) lambdaDrain {
	t.Helper()
	out, errOut, code := runDrainpipe(t, env, append([]string{"lambda", "drains", "add", app, "--url", base, "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("lambda drains add: exit %d: %s", code, errOut)
	}
	var d lambdaDrain
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("lambda drains add --json: %v: %q", err, out)
	}
	if !strings.HasPrefix(d.Env, "DRAINPIPE_LAMBDA_DRAINS=") || d.App != app || !strings.Contains(d.URL, d.ID+":") {
		t.Fatalf("lambda drains add --json: %+v", d)
	}
	_, rest, _ := strings.Cut(d.URL, d.ID+":")
	d.secret, _, _ = strings.Cut(rest, "@")
	return d
}

func (d lambdaDrain) basic() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(d.ID+":"+d.secret))
}

// realisticRecent is the realistic fixture with its lines moved into
// CloudWatch's window.
func realisticRecent(t testing.TB) []byte {
	t.Helper()
	body := testfixtures.Read(t, "heroku-drain-realistic.logplex")
	return logplextest.Recent(body, time.Now().Add(-time.Minute), time.Second)
}

// appLines returns the events of a group's line streams (not its metrics').
func appLines(emu *cwlemu.Server, group string) []string {
	var out []string
	for _, g := range emu.Groups() {
		for _, st := range g.Streams {
			if g.Name == group && st != cloudwatch.EMFStream {
				for _, e := range emu.Events(group, st) {
					out = append(out, e.Message)
				}
			}
		}
	}
	return out
}

func lambdaHeaders(auth string) http.Header {
	return http.Header{"Authorization": {auth}, "Content-Type": {"application/logplex-1"},
		"User-Agent": {"Logplex/v123"}, "Logplex-Frame-Id": {fmt.Sprintf("%032x", time.Now().UnixNano())}}
}

// TestLambdaDeliversBeforeAnswering runs the real bootstrap under AWS's
// Runtime Interface Emulator with the CloudWatch emulator as CloudWatch: the
// realistic fixture is in CloudWatch, with its metrics, when the 2xx comes; a
// wrong secret is a 401 with nothing put; an API Gateway event with a gzip
// body and Bearer auth is delivered too.
func TestLambdaDeliversBeforeAnswering(t *testing.T) {
	t.Parallel()
	emu, url := startEmulator(t, cwlemu.Faults{})
	d := addLambdaDrain(t, nil, "myapp", "https://abc.lambda-url.eu-west-1.on.aws/")
	fn := startFunction(t, 10, append(awsEnv(url), d.Env)...)
	body := realisticRecent(t)

	resp := fn.call(urlEvent("POST", "/logs", lambdaHeaders(d.basic()), body))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("answer %d %q\n%s", resp.StatusCode, resp.Body, fn.output())
	}
	if got := appLines(emu, "/heroku/myapp"); len(got) != 38 {
		t.Fatalf("%d lines in CloudWatch at the 2xx, want 38", len(got))
	}
	if docs := emu.Events("/heroku/myapp", cloudwatch.EMFStream); len(docs) == 0 {
		t.Error("no EMF metrics in CloudWatch at the 2xx")
	}

	puts := emu.Calls()["PutLogEvents"]
	wrong := lambdaDrain{ID: d.ID, secret: "not-the-secret"}
	if resp := fn.call(urlEvent("POST", "/logs", lambdaHeaders(wrong.basic()), body)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d, want 401", resp.StatusCode)
	}
	if n := emu.Calls()["PutLogEvents"]; n != puts {
		t.Errorf("a refused request made %d puts", n-puts)
	}

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(body)
	zw.Close()
	ev := map[string]any{"version": "2.0", "routeKey": "POST /logs", "rawPath": "/prod/logs",
		"headers":        map[string]string{"authorization": "Bearer " + d.secret, "content-encoding": "gzip", "x-request-id": "r-1"},
		"requestContext": map[string]any{"stage": "prod", "http": map[string]any{"method": "POST", "path": "/prod/logs"}},
		"body":           base64.StdEncoding.EncodeToString(gz.Bytes()), "isBase64Encoded": true}
	raw, _ := json.Marshal(ev)
	if resp := fn.call(raw); resp.StatusCode != http.StatusNoContent {
		t.Errorf("API Gateway event: %d %q", resp.StatusCode, resp.Body)
	}
	if got := appLines(emu, "/heroku/myapp"); len(got) != 76 {
		t.Errorf("%d lines after two batches, want 76", len(got))
	}
	if out := fn.output(); !strings.Contains(out, `"msg":"batch delivered"`) || !strings.Contains(out, `"request_id":`) {
		t.Errorf("the function's own log (stdout) lacks its deliveries:\n%s", out)
	}
	for op, n := range emu.Calls() {
		if strings.HasPrefix(op, "Describe") && n > 0 {
			t.Errorf("%d %s calls: puts come first, groups and streams are made on demand", n, op)
		}
	}
}

// TestLambdaRetriesFaults: under throttling and 5xx from CloudWatch the function
// retries within its deadline; every 2xx batch is in CloudWatch exactly once.
func TestLambdaRetriesFaults(t *testing.T) {
	t.Parallel()
	emu, url := startEmulator(t, cwlemu.Faults{ThrottleRate: 0.3, ServerErrorRate: 0.2})
	d := addLambdaDrain(t, nil, "myapp", "https://abc.lambda-url.eu-west-1.on.aws/")
	fn := startFunction(t, 10, append(awsEnv(url), d.Env)...)
	body := realisticRecent(t)
	for i := range 10 {
		if resp := fn.call(urlEvent("POST", "/logs", lambdaHeaders(d.basic()), body)); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("batch %d: %d %q\n%s", i, resp.StatusCode, resp.Body, fn.output())
		}
	}
	if got := appLines(emu, "/heroku/myapp"); len(got) != 380 {
		t.Fatalf("%d lines, want 380", len(got))
	}
	if n := emu.Calls()["PutLogEvents"]; n <= 10 {
		t.Errorf("%d puts for 10 batches under faults: nothing was retried?", n)
	}
}

// TestLambdaNeverAcknowledgesUndelivered: CloudWatch down, or slower than the
// invocation's deadline, is answered 503 (which logplex retries) before the
// deadline, never 2xx; once CloudWatch is back, the batch goes through.
func TestLambdaNeverAcknowledgesUndelivered(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		faults  cwlemu.Faults
		timeout int
	}{
		{"down", cwlemu.Faults{Down: true}, 10},
		{"deadline shorter than delivery", cwlemu.Faults{Latency: 3 * time.Second}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu, url := startEmulator(t, tc.faults)
			d := addLambdaDrain(t, nil, "myapp", "https://abc.lambda-url.eu-west-1.on.aws/")
			fn := startFunction(t, tc.timeout, append(awsEnv(url), d.Env)...)
			body := realisticRecent(t)
			for range 2 {
				start := time.Now()
				resp := fn.call(urlEvent("POST", "/logs", lambdaHeaders(d.basic()), body))
				if resp.StatusCode != http.StatusServiceUnavailable {
					t.Fatalf("answer %d %q, want 503\n%s", resp.StatusCode, resp.Body, fn.output())
				}
				if took := time.Since(start); took >= time.Duration(tc.timeout)*time.Second {
					t.Errorf("answered after %v, past the %d s deadline", took, tc.timeout)
				}
			}
			if out := fn.output(); strings.Contains(out, "Task timed out") {
				t.Errorf("the invocation timed out instead of answering 503:\n%s", out)
			}
			emu.SetFaults(cwlemu.Faults{})
			if resp := fn.call(urlEvent("POST", "/logs", lambdaHeaders(d.basic()), body)); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("CloudWatch back: %d %q", resp.StatusCode, resp.Body)
			}
		})
	}
}

// TestLambdaSeedExperiment reproduces the experiment that found a Lambda losing
// the last line of its invocations: 600 begin/end pairs through the function
// (two execution environments behind a Function URL), read back from CloudWatch
// by `drainpipe verify --from cloudwatch`: every pair is there.
func TestLambdaSeedExperiment(t *testing.T) {
	t.Parallel()
	emu, url := startEmulator(t, cwlemu.Faults{})
	front := startFunctionURL(t)
	d := addLambdaDrain(t, nil, "verifyapp", "http://placeholder/")
	env := append(awsEnv(url), d.Env)
	front.add(startFunction(t, 10, env...), startFunction(t, 10, env...))
	drainURL := strings.Replace(d.URL, "placeholder", strings.TrimPrefix(front.url, "http://"), 1)
	out, errOut, code := runDrainpipe(t, env, "verify", drainURL, "--from", "cloudwatch", "--count", "600",
		"--concurrency", "16", "--wait", "30s", "--json")
	var r verify.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("verify: exit %d, %v: %s %s", code, err, out, errOut)
	}
	if code != 0 || r.Sent != 600 || r.Found != 600 || r.Missing != 0 || r.Unacknowledged != 0 || r.Duplicates != 0 {
		t.Fatalf("verify: exit %d: %+v\n%s", code, r, errOut)
	}
	if n := len(appLines(emu, "/heroku/verifyapp")); n != 1200 {
		t.Errorf("%d lines in CloudWatch, want 1200", n)
	}
}

// TestLambdaDrainsInSSM: the drains live in an SSM SecureString (the
// emulator's) that `drainpipe lambda drains add --to ssm:...` writes; a drain
// added while the function runs works without a restart.
func TestLambdaDrainsInSSM(t *testing.T) {
	t.Parallel()
	emu, url := startEmulator(t, cwlemu.Faults{})
	params := ssmemu.New(ssmemu.Options{Region: "eu-west-1"})
	purl, err := params.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { params.Close() })
	env := append(awsEnv(url), "AWS_ENDPOINT_URL_SSM="+purl)
	first := addLambdaDrain(t, env, "myapp", "https://abc.lambda-url.eu-west-1.on.aws/", "--to", "ssm:/drainpipe/drains")
	if first.Env != "DRAINPIPE_LAMBDA_DRAINS=ssm:/drainpipe/drains" {
		t.Fatalf("env line %q", first.Env)
	}
	if p, _ := params.Parameter("/drainpipe/drains"); p.Type != "SecureString" || strings.Contains(p.Value, first.secret) {
		t.Fatalf("parameter %s %q", p.Type, p.Value)
	}
	fn := startFunction(t, 10, append(env, first.Env)...)
	body := realisticRecent(t)
	if resp := fn.call(urlEvent("POST", "/logs", lambdaHeaders(first.basic()), body)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("drain from SSM: %d %q\n%s", resp.StatusCode, resp.Body, fn.output())
	}
	second := addLambdaDrain(t, env, "otherapp", "https://abc.lambda-url.eu-west-1.on.aws/", "--to", "ssm:/drainpipe/drains")
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp := fn.call(urlEvent("POST", "/logs", lambdaHeaders(second.basic()), body))
		if resp.StatusCode == http.StatusNoContent {
			break
		}
		if resp.StatusCode != http.StatusUnauthorized || time.Now().After(deadline) {
			t.Fatalf("drain added while running: %d %q\n%s", resp.StatusCode, resp.Body, fn.output())
		}
		time.Sleep(200 * time.Millisecond) // within the 2 s after the instance's last read
	}
	if n := len(appLines(emu, "/heroku/otherapp")); n != 38 {
		t.Errorf("%d lines of the new drain, want 38", n)
	}
}

// TestLambdaDedup: with a DynamoDB table (the emulator's), logplex's retry of
// a delivered batch (same Logplex-Frame-Id) is answered 2xx and stored once.
func TestLambdaDedup(t *testing.T) {
	t.Parallel()
	emu, url := startEmulator(t, cwlemu.Faults{})
	ddb := ddbemu.New()
	ddb.CreateTable("dedup", "pk", "S")
	durl, err := ddb.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ddb.Close() })
	d := addLambdaDrain(t, nil, "myapp", "https://abc.lambda-url.eu-west-1.on.aws/")
	fn := startFunction(t, 10, append(awsEnv(url), d.Env, "AWS_ENDPOINT_URL_DYNAMODB="+durl, "DRAINPIPE_LAMBDA_DEDUP_TABLE=dedup")...)
	h := lambdaHeaders(d.basic())
	body := realisticRecent(t)
	for range 3 {
		if resp := fn.call(urlEvent("POST", "/logs", h, body)); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("answer %d %q\n%s", resp.StatusCode, resp.Body, fn.output())
		}
	}
	if n := len(appLines(emu, "/heroku/myapp")); n != 38 {
		t.Errorf("%d lines after a batch and two retries, want 38", n)
	}
	if keys := ddb.Keys("dedup"); len(keys) != 1 || keys[0] != d.ID+"/"+h.Get("Logplex-Frame-Id") {
		t.Errorf("dedup table holds %v", keys)
	}
}

// TestLambdaDrainsCommands: the drains' text form is made, added to, listed and
// edited by the CLI, and holds no secret.
func TestLambdaDrainsCommands(t *testing.T) {
	t.Parallel()
	base := "https://abc.lambda-url.eu-west-1.on.aws/"
	a := addLambdaDrain(t, nil, "myapp", base)
	value := strings.TrimPrefix(a.Env, "DRAINPIPE_LAMBDA_DRAINS=")
	b := addLambdaDrain(t, nil, "otherapp", base, "--to", value)
	if !strings.HasPrefix(b.Env, a.Env+",otherapp:"+b.ID+":") || strings.Contains(b.Env, a.secret) || strings.Contains(b.Env, b.secret) {
		t.Fatalf("env after a second add: %q", b.Env)
	}
	if a.URL != "https://"+a.ID+":"+a.secret+"@abc.lambda-url.eu-west-1.on.aws/logs" {
		t.Errorf("drain URL %q", a.URL)
	}
	out, _, code := runDrainpipe(t, nil, "lambda", "drains", "add", "thirdapp", "--url", base, "--to", strings.TrimPrefix(b.Env, "DRAINPIPE_LAMBDA_DRAINS="))
	if code != 0 || !strings.Contains(out, "heroku drains:add 'https://d_") || !strings.Contains(out, "\nDRAINPIPE_LAMBDA_DRAINS=") {
		t.Errorf("text output (exit %d):\n%s", code, out)
	}
	out, _, code = runDrainpipe(t, []string{"DRAINPIPE_LAMBDA_URL=" + base}, "lambda", "drains", "add", "envapp", "--json")
	if code != 0 || !strings.Contains(out, `@abc.lambda-url.eu-west-1.on.aws/logs"`) {
		t.Errorf("drains add APP with the URL in DRAINPIPE_LAMBDA_URL: exit %d %s", code, out)
	}
	value = strings.TrimPrefix(b.Env, "DRAINPIPE_LAMBDA_DRAINS=")
	out, _, code = runDrainpipe(t, nil, "lambda", "drains", "list", "--from", value, "--json")
	if code != 0 || !strings.Contains(out, `"app":"myapp"`) || !strings.Contains(out, `"app":"otherapp"`) {
		t.Errorf("list: exit %d %s", code, out)
	}
	out, _, code = runDrainpipe(t, nil, "lambda", "drains", "remove", "myapp", "--from", value)
	if code != 0 || !strings.Contains(out, "DRAINPIPE_LAMBDA_DRAINS=otherapp:"+b.ID+":") || strings.Contains(out, a.ID+":") && !strings.Contains(out, "removed drain "+a.ID) {
		t.Errorf("remove: exit %d\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"lambda", "drains", "add", "myapp"}, "--url"},
		{[]string{"lambda", "drains", "add", "Bad_App", "--url", base}, "app name"},
		{[]string{"lambda", "drains", "add", "myapp", "--url", base, "--to", "myapp:d_x"}, "want app:id:hash"},
		{[]string{"lambda", "drains", "remove", "nope", "--from", value}, "no drain"},
		{[]string{"lambda", "run"}, "AWS_LAMBDA_RUNTIME_API is not set"},
		{[]string{"lambda", "package", "--arch", "mips"}, "arm64 or x86_64"},
	} {
		_, errOut, code := runDrainpipe(t, nil, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want an error saying %q", tc.args, code, errOut, tc.want)
		}
	}
}
