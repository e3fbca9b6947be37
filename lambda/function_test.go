package lambda_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/cloudwatch"
	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
	"github.com/drainpipe/drainpipe/lambda"
	"github.com/drainpipe/drainpipe/logplex"
)

// TestRealisticBatchDeliveredBeforeAnswer: a Function URL request with the
// realistic fixture (base64 body, lower-case headers, Basic auth) is answered
// 204 only once every line is in CloudWatch, each once, written like `heroku
// logs`; its metrics are in the app's group as EMF by then too.
func TestRealisticBatchDeliveredBeforeAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	body := realistic(t)
	resp := e.invoke(t, 10*time.Second, urlEvent(map[string]string{
		"authorization": e.basic(), "content-type": "application/logplex-1", "logplex-msg-count": "38",
		"logplex-frame-id": "0123456789abcdef0123456789abcdef", "user-agent": "Logplex/v123",
	}, body, true))
	if resp.StatusCode != http.StatusNoContent || resp.Body != "" {
		t.Fatalf("answer %d %q, want 204", resp.StatusCode, resp.Body)
	}
	got := groupLines(e.emu, "/heroku/myapp")
	recs, _ := logplex.AppendRecords(nil, body, logplex.Options{Received: time.Now()})
	if len(got) != len(recs) || len(recs) != 38 {
		t.Fatalf("%d events in CloudWatch at the answer, want %d", len(got), len(recs))
	}
	for _, r := range recs {
		want := fmt.Sprintf("%s[%s]: %s", r.Source, r.Dyno, r.Message)
		if n := count(got, want); n != 1 {
			t.Errorf("%q stored %d times", want, n)
		}
	}
	emf := e.emu.Events("/heroku/myapp", cloudwatch.EMFStream)
	if len(emf) == 0 || !strings.Contains(emf[0].Message, `"CloudWatchMetrics"`) || !strings.Contains(strings.Join(messages(emf), ""), "router.service") {
		t.Errorf("no router metrics as EMF at the answer: %d documents", len(emf))
	}
	if l := e.log.String(); !strings.Contains(l, `"msg":"batch delivered"`) || !strings.Contains(l, `"lines":38`) {
		t.Errorf("the delivery is not in the function's log:\n%s", l)
	}
}

// TestAPIGatewayGzipBearer: an API Gateway HTTP API event on a stage, with a
// gzip body and log-shuttle's Bearer auth, is the same request.
func TestAPIGatewayGzipBearer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(realistic(t))
	w.Close()
	resp := e.invoke(t, 10*time.Second, gatewayEvent(map[string]string{
		"authorization": "Bearer " + e.secret, "content-encoding": "gzip", "content-type": "application/logplex-1",
		"x-request-id": "0be8e0dd-df46-4785-84ca-4744453f8bed",
	}, gz.Bytes()))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("answer %d %q, want 204", resp.StatusCode, resp.Body)
	}
	if got := groupLines(e.emu, "/heroku/myapp"); len(got) != 38 {
		t.Fatalf("%d events, want 38", len(got))
	}
}

// TestPlainBody: a body the URL passes as text (isBase64Encoded false) is read
// as it is.
func TestPlainBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	resp := e.invoke(t, 5*time.Second, urlEvent(map[string]string{"authorization": e.basic(), "content-type": "text/plain"}, realistic(t), false))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("answer %d %q", resp.StatusCode, resp.Body)
	}
	if got := groupLines(e.emu, "/heroku/myapp"); len(got) != 38 {
		t.Fatalf("%d events, want 38", len(got))
	}
}

// TestRefusals: what the server refuses, the function refuses with the same
// answer, and nothing reaches CloudWatch.
func TestRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *lambda.Config) { c.MaxBody = 4096 })
	body := realistic(t)
	ok := func() map[string]string { return map[string]string{"authorization": e.basic()} }
	with := func(k, v string) map[string]string { h := ok(); h[k] = v; return h }
	get, _ := json.Marshal(map[string]any{"version": "2.0", "rawPath": "/logs", "headers": ok(),
		"requestContext": map[string]any{"http": map[string]any{"method": "GET"}}})
	v1, _ := json.Marshal(map[string]any{"version": "1.0", "path": "/logs", "httpMethod": "POST", "body": "x"})
	for _, tc := range []struct {
		name string
		ev   json.RawMessage
		want int
	}{
		{"wrong secret", urlEvent(map[string]string{"authorization": "Basic " + b64(e.id+":nope")}, body[:100], false), 401},
		{"wrong drain id", urlEvent(map[string]string{"authorization": "Basic " + b64("d_other:"+e.secret)}, body[:100], false), 401},
		{"no credentials", urlEvent(map[string]string{}, body[:100], false), 401},
		{"GET", get, 405},
		{"content type", urlEvent(with("content-type", "application/json"), body[:100], false), 415},
		{"encoding", urlEvent(with("content-encoding", "br"), body[:100], false), 415},
		{"corrupt gzip", urlEvent(with("content-encoding", "gzip"), []byte("\x1f\x8bnot gzip at all"), true), 400},
		{"too large", urlEvent(ok(), body, true), 413},
		{"bad base64", json.RawMessage(`{"version":"2.0","rawPath":"/logs","isBase64Encoded":true,"body":"@@@","requestContext":{"http":{"method":"POST"}}}`), 400},
		{"payload 1.0", v1, 400},
		{"payload 2.0 without its request context", json.RawMessage(`{"version":"2.0","rawPath":"/logs","body":"x"}`), 400},
		{"not an object", json.RawMessage(`[1,2]`), 400},
	} {
		resp := e.invoke(t, 5*time.Second, tc.ev)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d %q, want %d", tc.name, resp.StatusCode, resp.Body, tc.want)
		}
		if strings.HasPrefix(tc.name, "payload 2.0") && !strings.Contains(resp.Body, "without requestContext") {
			t.Errorf("%s: %q does not say what the event lacks", tc.name, resp.Body)
		}
		if tc.want == 401 && resp.Headers["www-authenticate"] == "" {
			t.Errorf("%s: no WWW-Authenticate", tc.name)
		}
		if c, ok := resp.Headers["connection"]; ok {
			t.Errorf("%s: a connection header (%q) from a function that holds no connection", tc.name, c)
		}
	}
	if n := e.emu.Calls()["PutLogEvents"]; n != 0 {
		t.Errorf("%d PutLogEvents for refused requests", n)
	}
}

// TestNotDeliveredIs503: CloudWatch down, a group that fails for good, or a
// deadline shorter than the delivery: the answer is 503 (logplex retries it),
// given before the invocation's deadline, never a 2xx.
func TestNotDeliveredIs503(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		faults  cwlemu.Faults
		fail    bool
		timeout time.Duration
	}{
		{"down", cwlemu.Faults{Down: true}, false, 2 * time.Second},
		{"access denied", cwlemu.Faults{}, true, 2 * time.Second},
		{"slower than the deadline", cwlemu.Faults{Latency: 3 * time.Second}, false, 1500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			e.emu.SetFaults(tc.faults)
			if tc.fail {
				e.emu.FailGroup("/heroku/myapp", "AccessDeniedException", "not authorized to perform: logs:PutLogEvents")
			}
			start := time.Now()
			resp := e.invoke(t, tc.timeout, urlEvent(map[string]string{"authorization": e.basic()}, realistic(t), true))
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Headers["retry-after"] == "" {
				t.Errorf("answer %d %q, want 503 with Retry-After", resp.StatusCode, resp.Body)
			}
			if took := time.Since(start); took > tc.timeout-lambda.DefaultMargin/2 {
				t.Errorf("answered after %v, past the deadline (%v) less the margin", took, tc.timeout)
			}
		})
	}
}

// TestMarginLongerThanTheFunction: a margin that leaves an invocation no time
// (DRAINPIPE_LAMBDA_MARGIN of 5 s on a function of 3 s) answers 503 and says so
// in the log, with the request's id, rather than fail every batch in silence.
func TestMarginLongerThanTheFunction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *lambda.Config) { c.Margin = 5 * time.Second })
	ctx, cancel := context.WithTimeout(lambdaContext("margin-1"), 3*time.Second)
	defer cancel()
	resp, err := e.fn.Invoke(ctx, urlEvent(map[string]string{"authorization": e.basic()}, realistic(t), true))
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Headers["retry-after"] == "" {
		t.Fatalf("answer %d %q %v, want 503 with Retry-After", resp.StatusCode, resp.Body, err)
	}
	l := e.log.String()
	for _, want := range []string{"no time left after the margin", `"margin":"5s"`, `"request_id":"margin-1"`} {
		if !strings.Contains(l, want) {
			t.Errorf("the log does not say %s:\n%s", want, l)
		}
	}
}

// TestThrottlingAndServerErrorsRetried: under throttling and 5xx the function
// retries within its budget, and every batch answered 204 is in CloudWatch once.
func TestThrottlingAndServerErrorsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.emu.SetFaults(cwlemu.Faults{ThrottleRate: 0.3, ServerErrorRate: 0.2})
	body := realistic(t)
	for i := range 10 {
		resp := e.invoke(t, 10*time.Second, urlEvent(map[string]string{"authorization": e.basic()}, body, true))
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("batch %d: %d %q", i, resp.StatusCode, resp.Body)
		}
	}
	if got := groupLines(e.emu, "/heroku/myapp"); len(got) != 380 {
		t.Fatalf("%d events, want 380", len(got))
	}
}

// TestNothingRunsAfterTheAnswer: once Invoke returns, delivered or cut short
// by its deadline, no goroutine of the function, the receiver or the sink is
// left: a Lambda is frozen then, and whatever still ran would be lost.
//
// Not parallel: other tests' invocations would be counted.
func TestNothingRunsAfterTheAnswer(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		faults cwlemu.Faults
		want   int
	}{
		{cwlemu.Faults{ThrottleRate: 0.2, ServerErrorRate: 0.1}, http.StatusNoContent},
		{cwlemu.Faults{Down: true}, http.StatusServiceUnavailable},
		{cwlemu.Faults{Latency: 5 * time.Second}, http.StatusServiceUnavailable},
	} {
		e.emu.SetFaults(tc.faults)
		resp := e.invoke(t, 1500*time.Millisecond, urlEvent(map[string]string{"authorization": e.basic()}, realistic(t), true))
		if resp.StatusCode != tc.want {
			t.Fatalf("%+v: answer %d %q, want %d", tc.faults, resp.StatusCode, resp.Body, tc.want)
		}
		if gs := ownGoroutines(t); len(gs) > 0 {
			t.Fatalf("%+v: goroutines left running after the answer:\n%s", tc.faults, strings.Join(gs, "\n\n"))
		}
	}
}

// TestRequestIDInLog: the function's log lines carry the invocation's request id.
func TestRequestIDInLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := lambdaContext("c0ffee-1234")
	resp, err := e.fn.Invoke(ctx, urlEvent(map[string]string{"authorization": e.basic()}, realistic(t), true))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("invoke: %d %v", resp.StatusCode, err)
	}
	if l := e.log.String(); !strings.Contains(l, `"request_id":"c0ffee-1234"`) {
		t.Errorf("no request id in the log:\n%s", l)
	}
}

func count(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

func messages(evs []cwlemu.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Message
	}
	return out
}

// TestAWSShapedEvents: events shaped as AWS documents them for a Function URL
// and for an API Gateway HTTP API stage route, with all their headers, are
// delivered like any request.
func TestAWSShapedEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	body := realistic(t)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(body)
	w.Close()
	for _, tc := range []struct {
		file, auth string
		body       []byte
	}{
		{"testdata/function-url-event.json", e.basic(), body},
		{"testdata/apigw-http-event.json", "Bearer " + e.secret, gz.Bytes()},
	} {
		raw, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		ev := strings.NewReplacer("AUTHORIZATION", tc.auth, "BODY_LENGTH", fmt.Sprint(len(tc.body)),
			`"BODY"`, `"`+base64.StdEncoding.EncodeToString(tc.body)+`"`).Replace(string(raw))
		if resp := e.invoke(t, 5*time.Second, json.RawMessage(ev)); resp.StatusCode != http.StatusNoContent {
			t.Errorf("%s: %d %q", tc.file, resp.StatusCode, resp.Body)
		}
	}
	if got := groupLines(e.emu, "/heroku/myapp"); len(got) != 76 {
		t.Errorf("%d events, want 76", len(got))
	}
}

// TestRefusedLinesInTheLog: lines CloudWatch refuses for good (here, a year
// old) are answered 204, as retrying cannot help, and written whole to the
// function's own log with a summary: with no archive, that log keeps them.
func TestRefusedLinesInTheLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	old := time.Now().AddDate(-1, 0, 0).UTC().Format("2006-01-02T15:04:05.000000+00:00")
	msg := "<190>1 " + old + " host app web.1 - a line from last year\n"
	ctx, cancel := context.WithTimeout(lambdaContext("refused-1"), 5*time.Second)
	defer cancel()
	resp, err := e.fn.Invoke(ctx, urlEvent(map[string]string{"authorization": e.basic()}, []byte(fmt.Sprintf("%d %s", len(msg), msg)), true))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("answer %d %q %v", resp.StatusCode, resp.Body, err)
	}
	l := e.log.String()
	if !strings.Contains(l, `"msg":"cloudwatch refused a line","reason":"too_old","app":"myapp"`) ||
		!strings.Contains(l, `app[web.1]: a line from last year`) || !strings.Contains(l, `"too_old":1`) {
		t.Errorf("the refused line is not in the function's log:\n%s", l)
	}
	// The line and the summary are the request's: found with its id.
	for _, line := range strings.Split(strings.TrimSpace(l), "\n") {
		if strings.Contains(line, "refused") && !strings.Contains(line, `"request_id":"refused-1"`) {
			t.Errorf("a record of the request without its id: %s", line)
		}
	}
}
