package lambda_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/logplex"
)

// BenchmarkInvoke100KB: one warm invocation in-process, a 100 KB batch of
// router lines delivered through the real SDK to the CloudWatch emulator on
// 127.0.0.1, with its metrics as EMF: the function's own cost, without the
// Runtime API between it and the caller.
func BenchmarkInvoke100KB(b *testing.B) {
	e := newEnv(b, nil)
	var body, msg []byte
	for i := 0; len(body) < 100<<10; i++ {
		msg = logplex.AppendMessage(msg[:0], drainpipe.Record{Priority: 158, Time: time.Now(), Host: "host", Source: "heroku", Dyno: "router",
			Message: fmt.Sprintf(`at=info method=GET path="/items/%d" host=benchapp.herokuapp.com fwd="203.0.113.7" dyno=web.%d connect=%dms service=%dms status=200 bytes=%d protocol=https`,
				i, i%4+1, i%3, 5+i%40, 1000+i)})
		body = logplex.AppendFrame(body, msg)
	}
	ev := urlEvent(map[string]string{"authorization": e.basic()}, body, true)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if resp := e.invoke(b, 10*time.Second, ev); resp.StatusCode != http.StatusNoContent {
			b.Fatalf("answer %d %q", resp.StatusCode, resp.Body)
		}
	}
}
