package awsemu_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/drainpipe/drainpipe/internal/awsemu"
)

// TestListener: a double is reachable while served, unreachable once closed,
// and can be served again; one Listener serves one socket at a time.
func TestListener(t *testing.T) {
	t.Parallel()
	var l awsemu.Listener
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "up") })
	for round := range 2 {
		url, err := l.Serve("127.0.0.1:0", h)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if _, err := l.Serve("127.0.0.1:0", h); err == nil {
			t.Errorf("round %d: a second Serve while serving worked", round)
		}
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "up" {
			t.Errorf("round %d: answer %q", round, body)
		}
		if err := l.Close(); err != nil {
			t.Fatalf("round %d: close: %v", round, err)
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			t.Errorf("round %d: still reachable after Close", round)
		}
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close when not serving: %v", err)
	}
}
