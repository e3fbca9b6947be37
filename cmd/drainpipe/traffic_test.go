package main_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/logplex"
)

// traffic makes the lines of a busy Heroku app over a span ending at end: router
// lines for two web dynos (a few H12 timeouts and 5xx among them), the app's own
// request logs, runtime metrics of each dyno, Postgres add-on samples, l2met
// measures, an R14 and a worker. Seeded, so a run draws the same lines.
func traffic(seed uint64, end time.Time, span time.Duration, n int) []drainpipe.Record {
	rng := rand.New(rand.NewPCG(seed, 7))
	var out []drainpipe.Record
	paths := []string{"/", "/products", "/products/42", "/cart", "/checkout", "/api/v1/orders", "/assets/app.css", "/login"}
	for i := 0; i < n; i++ {
		t := end.Add(-span + time.Duration(float64(span)*float64(i)/float64(n)))
		dyno := fmt.Sprintf("web.%d", 1+rng.IntN(2))
		path := paths[rng.IntN(len(paths))]
		service := 5 + rng.ExpFloat64()*40
		if dyno == "web.2" {
			service *= 1.6
		}
		status := 200
		switch r := rng.Float64(); {
		case r < 0.02:
			status = 500
		case r < 0.06:
			status = 404
		case r < 0.12:
			status = 302
		}
		reqID := fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), rng.IntN(1<<12), rng.Uint64()&(1<<48-1))
		if rng.Float64() < 0.01 {
			out = append(out, rec(t, "heroku", "router", 158, fmt.Sprintf(`at=error code=H12 desc="Request timeout" method=GET path="%s" host=shop.example.com request_id=%s fwd="203.0.113.%d" dyno=%s connect=0ms service=30000ms status=503 bytes=0 protocol=https`, path, reqID, rng.IntN(255), dyno)))
			continue
		}
		out = append(out,
			rec(t, "app", dyno, 190, fmt.Sprintf(`Started GET "%s" for 203.0.113.%d at %s`, path, rng.IntN(255), t.Format("2006-01-02 15:04:05 +0000"))),
			rec(t.Add(time.Duration(service)*time.Millisecond), "heroku", "router", 158, fmt.Sprintf(`at=info method=GET path="%s" host=shop.example.com request_id=%s fwd="203.0.113.%d" dyno=%s connect=%dms service=%dms status=%d bytes=%d protocol=https`,
				path, reqID, rng.IntN(255), dyno, rng.IntN(3), int(service), status, 200+rng.IntN(20000))),
		)
		if status == 500 {
			out = append(out, rec(t, "app", dyno, 187, `ERROR -- : ActiveRecord::StatementInvalid (PG::QueryCanceled: ERROR:  canceling statement due to statement timeout)`))
		}
		if i%25 == 0 {
			out = append(out, rec(t, "app", dyno, 190, fmt.Sprintf("measure#db.query=%.1fms measure#render.view=%.1fms count#orders.created=%d", 1+rng.ExpFloat64()*8, 2+rng.ExpFloat64()*15, rng.IntN(3))))
		}
		if i%40 == 0 {
			out = append(out, runtimeMetrics(rng, t)...)
		}
		if i%90 == 0 {
			out = append(out, rec(t, "app", "worker.1", 190, fmt.Sprintf("INFO -- : [Sidekiq] OrderMailer job done in %.2fs jid=%x", rng.Float64()*2, rng.Uint32())))
		}
	}
	out = append(out, rec(end.Add(-span/3), "heroku", "web.2", 134, "Error R14 (Memory quota exceeded)"))
	return out
}

// runtimeMetrics are Heroku's log-runtime-metrics lines for both web dynos and
// a Postgres add-on sample.
func runtimeMetrics(rng *rand.Rand, t time.Time) []drainpipe.Record {
	var out []drainpipe.Record
	for d, base := range map[string]float64{"web.1": 210, "web.2": 380} {
		out = append(out, rec(t, "heroku", d, 190, fmt.Sprintf(
			"source=%s dyno=heroku.12345.%s sample#load_avg_1m=%.2f sample#load_avg_5m=%.2f sample#memory_total=%.2fMB sample#memory_rss=%.2fMB sample#memory_cache=%.2fMB sample#memory_swap=0.00MB sample#memory_pgpgin=%dpages sample#memory_quota=512.00MB",
			d, d, rng.Float64()*1.5, rng.Float64(), base+rng.Float64()*40, base+rng.Float64()*30, rng.Float64()*10, rng.IntN(100000))))
	}
	out = append(out, rec(t, "app", "heroku-postgres", 190, fmt.Sprintf(
		"source=DATABASE addon=postgresql-curved-12345 sample#current_transaction=%d sample#db_size=%dbytes sample#tables=42 sample#active-connections=%d sample#waiting-connections=0 sample#index-cache-hit-rate=0.99%d sample#table-cache-hit-rate=0.98%d sample#load-avg-1m=%.2f sample#read-iops=%.1f sample#write-iops=%.1f sample#memory-total=3944784kB sample#memory-free=%dkB",
		1000+rng.IntN(100), 150000000+rng.IntN(1000000), 5+rng.IntN(10), rng.IntN(9), rng.IntN(9), rng.Float64(), rng.Float64()*20, rng.Float64()*40, 200000+rng.IntN(50000))))
	return out
}

func rec(t time.Time, source, dyno string, pri int, msg string) drainpipe.Record {
	return drainpipe.Record{Time: t, Priority: pri, Host: "host", Source: source, Dyno: dyno, Message: msg}
}

// sendRecords posts records to a drain URL as logplex does, in batches of up to
// 500, and fails the test on any answer but 204.
func sendRecords(t testing.TB, drainURL string, recs []drainpipe.Record) {
	t.Helper()
	for start := 0; start < len(recs); start += 500 {
		end := min(start+500, len(recs))
		var body []byte
		for _, r := range recs[start:end] {
			body = logplex.AppendFrame(body, logplex.AppendMessage(nil, r))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, drainURL, bytes.NewReader(body))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/logplex-1")
		req.Header.Set("Logplex-Msg-Count", fmt.Sprint(end-start))
		req.Header.Set("Logplex-Frame-Id", fmt.Sprintf("frame-%d-%d", time.Now().UnixNano(), start))
		req.Header.Set("User-Agent", "Logplex/v123")
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err != nil {
			t.Fatalf("post to the drain: %v", err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("post to the drain: %d", resp.StatusCode)
		}
	}
}
