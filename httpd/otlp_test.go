package httpd_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/drainpipe/drainpipe/httpd"
	"github.com/drainpipe/drainpipe/journal"
)

const (
	protobuf = "application/x-protobuf"
	jsonType = "application/json"
)

// logsBody is an ExportLogsServiceRequest of n string records, in protobuf.
func logsBody(t *testing.T, n int, text string) []byte {
	t.Helper()
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := range n {
		lrs.AppendEmpty().Body().SetStr(text + " " + strconv.Itoa(i))
	}
	b, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readStatus decodes an error answer's google.rpc.Status.
func readStatus(t *testing.T, resp *http.Response) *status.Status {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var st status.Status
	if resp.Header.Get("Content-Type") == jsonType {
		err = protojson.Unmarshal(body, &st)
	} else {
		err = proto.Unmarshal(body, &st)
	}
	if err != nil {
		t.Fatalf("answer %d with body %q: not a google.rpc.Status: %v", resp.StatusCode, body, err)
	}
	return &st
}

func TestOTLPBadRequestsAreAnswered(t *testing.T) {
	t.Parallel()
	e := newOTLPEnv(t, journal.Config{}, httpd.Config{MaxBody: 64 << 10}, true)
	var bomb bytes.Buffer
	gz := gzip.NewWriter(&bomb)
	_, _ = gz.Write(make([]byte, 10<<20)) // 10 MiB of zeros: ~10 KiB compressed
	_ = gz.Close()
	tests := []struct {
		name        string
		path, ctype string
		body        []byte
		header      []string
		code        int
		grpc        codes.Code
		say         string
	}{
		{"malformed protobuf", "/v1/logs", protobuf, []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01}, nil, 400, codes.InvalidArgument, "decode OTLP logs"},
		{"malformed JSON", "/v1/metrics", jsonType, []byte(`{"resourceMetrics": [{"scopeMetrics": 7`), nil, 400, codes.InvalidArgument, "decode OTLP metrics"},
		{"corrupt gzip", "/v1/logs", protobuf, []byte("not gzip at all"), []string{"Content-Encoding", "gzip"}, 400, codes.InvalidArgument, "gzip"},
		{"too large", "/v1/logs", protobuf, logsBody(t, 2000, strings.Repeat("x", 100)), nil, 413, codes.InvalidArgument, "larger than"},
		{"gzip bomb", "/v1/logs", protobuf, bomb.Bytes(), []string{"Content-Encoding", "gzip"}, 413, codes.InvalidArgument, "larger than"},
		{"unknown encoding", "/v1/logs", protobuf, logsBody(t, 1, "x"), []string{"Content-Encoding", "br"}, 415, codes.InvalidArgument, "br"},
		{"unknown content type", "/v1/logs", "text/plain", logsBody(t, 1, "x"), nil, 415, codes.InvalidArgument, "application/x-protobuf or application/json"},
		{"no token", "/v1/metrics", jsonType, []byte(`{}`), []string{"X-Drainpipe-Token", ""}, 401, codes.Unauthenticated, "token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.post(t, tt.path, tt.ctype, tt.body, tt.header...)
			if resp.StatusCode != tt.code {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.code)
			}
			st := readStatus(t, resp)
			if codes.Code(st.Code) != tt.grpc || !strings.Contains(st.Message, tt.say) {
				t.Fatalf("status %v %q, want %v saying %q", codes.Code(st.Code), st.Message, tt.grpc, tt.say)
			}
			if resp.Header.Get("Retry-After") != "" {
				t.Fatalf("Retry-After on a %d: a sender must not retry it", resp.StatusCode)
			}
		})
	}
	// Still serving, and nothing of the above was stored.
	resp := e.post(t, "/v1/logs", protobuf, logsBody(t, 1, "after"))
	if resp.StatusCode != 200 {
		t.Fatalf("a good request after the bad ones: %d", resp.StatusCode)
	}
	if recs := records(e.sink.wait(t, 1)); len(recs) != 1 || recs[0].Message != "after 0" {
		t.Fatalf("journaled %+v, want only the good line", recs)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v1/logs", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /v1/logs: %v %v, want 405", resp, err)
	}
}

func TestOTLPJSONAndPartialSuccess(t *testing.T) {
	t.Parallel()
	e := newOTLPEnv(t, journal.Config{}, httpd.Config{}, true)
	// One gauge point, one summary point (refused: quantiles do not merge), and a
	// histogram whose buckets do not match its bounds (refused).
	body := `{"resourceMetrics":[{"resource":{"attributes":[{"key":"heroku.dyno","value":{"stringValue":"worker.1"}}]},
	 "scopeMetrics":[{"metrics":[
	  {"name":"jobs.running","gauge":{"dataPoints":[{"timeUnixNano":"1764000000000000000","asInt":"3"}]}},
	  {"name":"rpc.latency","summary":{"dataPoints":[{"timeUnixNano":"1764000000000000000","count":"1","sum":2}]}},
	  {"name":"bad.hist","histogram":{"aggregationTemporality":1,"dataPoints":[{"timeUnixNano":"1764000000000000000","count":"1","bucketCounts":["1"],"explicitBounds":[1,2]}]}}
	 ]}]}]}`
	resp := e.post(t, "/v1/metrics", jsonType, []byte(body))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != jsonType {
		t.Fatalf("status %d %s, want 200 in JSON", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	raw, _ := io.ReadAll(resp.Body)
	answer := pmetricotlp.NewExportResponse()
	if err := answer.UnmarshalJSON(raw); err != nil {
		t.Fatalf("answer %q: %v", raw, err)
	}
	if ps := answer.PartialSuccess(); ps.RejectedDataPoints() != 2 || !strings.Contains(ps.ErrorMessage(), "summar") {
		t.Fatalf("partial success %d %q, want 2 rejected, the first a summary", ps.RejectedDataPoints(), ps.ErrorMessage())
	}
	recs := records(e.sink.wait(t, 1))
	if len(recs) != 1 || attr(recs[0], "metric.name") != "jobs.running" || recs[0].Dyno != "worker.1" {
		t.Fatalf("journaled %+v, want the gauge point only", recs)
	}

	// A logs request in JSON is answered in JSON, with no partial success.
	logs := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"hello"},"traceId":"5b8efff798038103d269b633813fc60c"}]}]}]}`
	resp = e.post(t, "/v1/logs", jsonType, []byte(logs), "X-Drainpipe-Token", "", "Authorization", "Bearer "+e.secret)
	raw, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != jsonType || strings.Contains(string(raw), "rejected") {
		t.Fatalf("JSON logs: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	recs = records(e.sink.wait(t, 2))
	if last := recs[len(recs)-1]; last.Message != "hello" || attr(last, "trace_id") != "5b8efff798038103d269b633813fc60c" {
		t.Fatalf("JSON log record %+v", last)
	}
}

func TestOTLPFullJournalIsRetriedLater(t *testing.T) {
	t.Parallel()
	e := newOTLPEnv(t, journal.Config{MaxBytes: 256 << 10}, httpd.Config{}, false)
	body := logsBody(t, 200, strings.Repeat("y", 200))
	var resp *http.Response
	for i := 0; i < 100; i++ {
		if resp = e.post(t, "/v1/logs", protobuf, body); resp.StatusCode != 200 {
			break
		}
	}
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("full journal: %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if st := readStatus(t, resp); codes.Code(st.Code) != codes.ResourceExhausted {
		t.Fatalf("status %v %q", codes.Code(st.Code), st.Message)
	}
	// An empty request has nothing to journal: it is answered at once.
	if resp = e.post(t, "/v1/metrics", protobuf, nil); resp.StatusCode != 200 {
		t.Fatalf("empty export to a full journal: %d", resp.StatusCode)
	}
}
