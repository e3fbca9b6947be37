package httpd_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/drainpipe/drainpipe/httpd"
)

// TestSlowBodyIsCut: an authenticated request whose body stops coming is answered
// 408 once BodyTimeout has passed and its connection closed, on the drain endpoint
// and the OTLP ones alike (with a google.rpc.Status saying DeadlineExceeded);
// nothing reaches the journal.
func TestSlowBodyIsCut(t *testing.T) {
	t.Parallel()
	const bodyTimeout = 300 * time.Millisecond
	ts := newTestServer(t, func(c *httpd.Config) { c.BodyTimeout = bodyTimeout })
	d, secret := ts.drains.add(t, "slow")
	addr := strings.TrimPrefix(ts.url, "http://")
	for _, tt := range []struct {
		path, contentType string
		auth              http.Header
	}{
		{"/logs", "application/logplex-1", basicAuth(d.ID, secret)},
		{"/v1/logs", "application/x-protobuf", http.Header{"X-Drainpipe-Token": {secret}}},
		{"/v1/metrics", "application/json", http.Header{"Authorization": {"Bearer " + secret}}},
	} {
		t.Run(tt.path, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: 100000\r\n", tt.path, addr, tt.contentType)
			for k, vs := range tt.auth {
				req += k + ": " + vs[0] + "\r\n"
			}
			start := time.Now()
			if _, err := io.WriteString(c, req+"\r\n"+strings.Repeat("x", 100)); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("no answer to a stalled body: %v", err)
			}
			took := time.Since(start)
			if strings.HasPrefix(tt.path, "/v1/") {
				if st := readStatus(t, resp); codes.Code(st.Code) != codes.DeadlineExceeded {
					t.Errorf("OTLP answer's status: %v %q, want DeadlineExceeded", codes.Code(st.Code), st.Message)
				}
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
				t.Errorf("stalled body: %s, close %v; want 408 and the connection closed", resp.Status, resp.Close)
			}
			if took < bodyTimeout {
				t.Errorf("answered after %v, before the body timeout of %v", took, bodyTimeout)
			}
			if n, err := c.Read(make([]byte, 1)); err == nil {
				t.Errorf("the connection stays open after the 408 (read %d bytes)", n)
			}
		})
	}
	if got := ts.journal.appended(); len(got) != 0 {
		t.Errorf("%d batches journaled from stalled bodies", len(got))
	}
}
