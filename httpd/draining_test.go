package httpd_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/httpd"
)

// TestShutdownAnswersFollowers: a follower waiting (a 25 s long poll) is
// answered as soon as the server begins to shut down, with no lines, so the
// shutdown does not wait out the poll.
func TestShutdownAnswersFollowers(t *testing.T) {
	t.Parallel()
	ts, h := newTestHandler(t, nil)
	ts.archive.waiting = make(chan struct{}, 1)
	ts.drains.add(t, "myapp")
	l, err := httpd.Listen(httpd.ListenConfig{Addr: "127.0.0.1:0"}, h)
	if err != nil {
		t.Fatal(err)
	}
	go l.Serve()
	answered := make(chan int, 1)
	go func() {
		resp, _, err := adminGet(t.Context(), "http://"+l.Addr().String()+"/api/apps/myapp/lines?after=0&wait=25s")
		if err != nil {
			answered <- 0
			return
		}
		answered <- resp.StatusCode
	}()
	<-ts.archive.waiting // the follower waits
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := l.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v after %v; want the follower answered at once", err, time.Since(start))
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Shutdown took %v with a follower waiting; want it answered at once", took)
	}
	if code := <-answered; code != http.StatusOK {
		t.Errorf("the follower's answer: %d, want 200 (no lines)", code)
	}
}
