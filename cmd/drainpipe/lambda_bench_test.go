package main_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
	"github.com/drainpipe/drainpipe/logplex"
)

// benchBatch is a logplex body of about size bytes of router lines (metrics
// included), stamped now, as logplex sends them (~100 KB a batch).
func benchBatch(size int) []byte {
	var body, msg []byte
	now := time.Now()
	for i := 0; len(body) < size; i++ {
		msg = logplex.AppendMessage(msg[:0], drainpipe.Record{Priority: 158, Time: now, Host: "host", Source: "heroku", Dyno: "router",
			Message: fmt.Sprintf(`at=info method=GET path="/items/%d" host=benchapp.herokuapp.com request_id=%08x-2bc4-4143-8677-cc66ccfb115f fwd="203.0.113.7" dyno=web.%d connect=%dms service=%dms status=200 bytes=%d protocol=https`,
				i, i, i%4+1, i%3, 5+i%40, 1000+i)})
		body = logplex.AppendFrame(body, msg)
	}
	return body
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// BenchmarkLambdaColdStart: the first invocation of a new execution
// environment (the RIE starting the bootstrap, its init, then a 100 KB batch
// delivered to the CloudWatch emulator), and the init alone as the RIE reports
// it. Run with -benchtime=Nx: each iteration starts a new environment.
func BenchmarkLambdaColdStart(b *testing.B) {
	_, url := startEmulator(b, cwlemu.Faults{})
	d := addLambdaDrain(b, nil, "benchapp", "https://abc.lambda-url.eu-west-1.on.aws/")
	env := append(awsEnv(url), d.Env, "LOG_LEVEL=info") // the RIE's INIT REPORT line is at info
	body := benchBatch(100 << 10)
	lambdaBinaries(b)
	var firsts, inits []float64
	for b.Loop() {
		b.StopTimer()
		fn := startFunction(b, 10, env...)
		b.StartTimer()
		start := time.Now()
		if resp := fn.call(urlEvent("POST", "/logs", lambdaHeaders(d.basic()), body)); resp.StatusCode != http.StatusNoContent {
			b.Fatalf("answer %d %q", resp.StatusCode, resp.Body)
		}
		firsts = append(firsts, ms(time.Since(start)))
		b.StopTimer()
		if m := initReport.FindStringSubmatch(fn.output()); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			inits = append(inits, v)
		}
		fn.stop()
		b.StartTimer()
	}
	b.ReportMetric(quantile(firsts, 0.5), "first-invoke-p50-ms")
	b.ReportMetric(quantile(inits, 0.5), "init-p50-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkLambdaWarm: 100 KB batches, one after another, through a warm
// function to the CloudWatch emulator: each answered 204 once delivered, with
// its metrics. Reports the latency of an invocation (p50, p99), the bootstrap's
// peak RSS, and MB/s of drain bodies.
func BenchmarkLambdaWarm(b *testing.B) {
	_, url := startEmulator(b, cwlemu.Faults{})
	d := addLambdaDrain(b, nil, "benchapp", "https://abc.lambda-url.eu-west-1.on.aws/")
	fn := startFunction(b, 10, append(awsEnv(url), d.Env)...)
	body := benchBatch(100 << 10)
	ev := urlEvent("POST", "/logs", lambdaHeaders(d.basic()), body)
	if resp := fn.call(ev); resp.StatusCode != http.StatusNoContent { // the cold start, and the group's creation
		b.Fatalf("answer %d %q", resp.StatusCode, resp.Body)
	}
	var lat []float64
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		start := time.Now()
		if resp := fn.call(ev); resp.StatusCode != http.StatusNoContent {
			b.Fatalf("answer %d %q", resp.StatusCode, resp.Body)
		}
		lat = append(lat, ms(time.Since(start)))
	}
	b.ReportMetric(quantile(lat, 0.5), "p50-ms")
	b.ReportMetric(quantile(lat, 0.99), "p99-ms")
	b.ReportMetric(float64(fn.peakRSS())/(1<<20), "peak-RSS-MB")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	return s[min(len(s)-1, int(q*float64(len(s))))]
}
