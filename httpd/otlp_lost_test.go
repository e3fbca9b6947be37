package httpd_test

import (
	"errors"
	"net/http"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// TestOTLPWhileDrainStoreLost: while the drain store lost drains, an OTLP token it
// does not know may be a good one it forgot: 503 with Retry-After, which exporters
// retry, not 401, which they drop, as /logs answers; a drain it knows is served.
func TestOTLPWhileDrainStoreLost(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	_, secret := ts.drains.add(t, "known")
	ts.drains.health = errors.New("the drain store lost drains: the journal directory was lost")
	tests := []struct {
		name, path string
		header     http.Header
	}{
		{"forgotten token, logs", "/v1/logs", http.Header{"X-Drainpipe-Token": {"a-secret-it-forgot"}}},
		{"forgotten token, metrics", "/v1/metrics", http.Header{"X-Drainpipe-Token": {"a-secret-it-forgot"}}},
		{"forgotten bearer", "/v1/logs", http.Header{"Authorization": {"Bearer a-secret-it-forgot"}}},
		{"no token", "/v1/logs", http.Header{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.header.Set("Content-Type", protobuf)
			resp, text := do(t, "POST", ts.url+tt.path, string(logsBody(t, 1, "kept")), tt.header)
			if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "60" {
				t.Fatalf("status %d, Retry-After %q: %q; want 503 with Retry-After 60", resp.StatusCode, resp.Header.Get("Retry-After"), text)
			}
			var st status.Status
			if err := proto.Unmarshal([]byte(text), &st); err != nil || codes.Code(st.Code) != codes.Unavailable {
				t.Fatalf("body %q (%v): want a google.rpc.Status Unavailable", text, err)
			}
		})
	}
	if n := len(ts.journal.appended()); n != 0 {
		t.Fatalf("%d batches journaled for unknown tokens, want none", n)
	}
	h := http.Header{"Content-Type": {protobuf}, "X-Drainpipe-Token": {secret}}
	if resp, text := do(t, "POST", ts.url+"/v1/logs", string(logsBody(t, 2, "kept")), h); resp.StatusCode != 200 {
		t.Fatalf("a known drain: status %d %q, want 200", resp.StatusCode, text)
	}
	if b := ts.journal.appended(); len(b) != 1 || len(b[0].Records) != 2 || b[0].App != "known" {
		t.Fatalf("journaled %+v, want one batch of 2 records for known", b)
	}
}
