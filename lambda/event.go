package lambda

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Response is the function's answer, in the shape both Function URLs and API
// Gateway HTTP APIs (payload format 2.0) read.
type Response = events.LambdaFunctionURLResponse

// maxAnswer bounds the body of an answer: drainpipe answers in one sentence.
const maxAnswer = 64 << 10

// httpEvent is what the two payloads share that a request is made of.
type httpEvent struct {
	version, method, path, query, host, sourceIP string
	headers                                      map[string]string
	body                                         string
	base64                                       bool
}

// decodeEvent reads a Function URL or an API Gateway HTTP API event. Both are
// AWS's payload format 2.0 (a Function URL's even names its routeKey and stage
// "$default"), so events.APIGatewayV2HTTPRequest reads either; a REST API's
// payload 1.0, or an event that is not HTTP at all, is refused.
func decodeEvent(raw []byte) (httpEvent, error) {
	var in events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &in); err != nil {
		return httpEvent{}, fmt.Errorf("event: %w", err)
	}
	c := in.RequestContext
	e := httpEvent{version: in.Version, method: c.HTTP.Method, path: in.RawPath, query: in.RawQueryString,
		host: c.DomainName, sourceIP: c.HTTP.SourceIP, headers: in.Headers, body: in.Body, base64: in.IsBase64Encoded}
	if e.version != "2.0" {
		return httpEvent{}, fmt.Errorf("event version %q: drainpipe takes Function URL and API Gateway HTTP API events of payload format 2.0", e.version)
	}
	if e.method == "" {
		return httpEvent{}, errors.New("event of payload format 2.0 without requestContext.http.method: not an HTTP request")
	}
	return e, nil
}

// request is the HTTP request an event stands for. Header names arrive in lower
// case (and repeated headers joined by commas); they are set canonically, so
// the receiver reads them as it reads any request's.
func (e httpEvent) request(ctx context.Context) (*http.Request, error) {
	body := []byte(e.body)
	if e.base64 {
		var err error
		if body, err = base64.StdEncoding.DecodeString(e.body); err != nil {
			return nil, fmt.Errorf("body is not valid base64: %w", err)
		}
	}
	u := &url.URL{Path: e.path, RawQuery: e.query}
	if u.Path == "" {
		u.Path = "/"
	}
	r, err := http.NewRequestWithContext(ctx, e.method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	for k, v := range e.headers {
		r.Header.Set(k, v)
	}
	r.Host, r.RemoteAddr, r.RequestURI = e.host, e.sourceIP, u.RequestURI()
	return r, nil
}

// recorder is the http.ResponseWriter the receiver answers into.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	if room := maxAnswer - r.body.Len(); room < len(p) {
		p = p[:max(room, 0)]
	}
	r.body.Write(p)
	return len(p), nil
}

// response is the recorded answer as the function returns it.
func (r *recorder) response() Response {
	out := Response{StatusCode: r.code, Headers: map[string]string{}}
	if out.StatusCode == 0 {
		out.StatusCode = http.StatusOK
	}
	for k, vs := range r.header {
		if k == "Connection" {
			// The receiver closes a refused request's connection; the function
			// holds none (the Function URL or API Gateway does), so it is dropped.
			continue
		}
		out.Headers[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	if b := r.body.Bytes(); utf8.Valid(b) {
		out.Body = string(b)
	} else {
		out.Body, out.IsBase64Encoded = base64.StdEncoding.EncodeToString(b), true
	}
	return out
}

// answer is a plain-text answer of the function's own.
func answer(code int, msg string) Response {
	return Response{StatusCode: code, Headers: map[string]string{"content-type": "text/plain; charset=utf-8"}, Body: msg + "\n"}
}
