package alert_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/alert/alerttest"
	"github.com/drainpipe/drainpipe/internal/testclock"
)

// BenchmarkEvaluate100Rules measures the evaluation's own cost: 100 one-minute rules,
// every minute, over an in-memory archive of 20,000 lines a minute's worth at a time
// (the Searcher's cost is the archive's: see archive/alertsearch's BenchmarkAlertRules).
// Each window's outcome is written to a real JetStream bucket.
func BenchmarkEvaluate100Rules(b *testing.B) {
	store := newBenchStore(b)
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	clock := testclock.New(start)
	arc := &alerttest.Archive{Mark: clock.Now}
	apps := []string{"shop", "api", "web", "worker", "admin"}
	minutes := b.N + 2
	for m := range min(minutes, 200) { // the fake scans every line: keep it to what a run reads
		at := start.Add(time.Duration(m) * time.Minute)
		for i := range 100 {
			t := at.Add(time.Duration(i) * 600 * time.Millisecond)
			app := apps[i%len(apps)]
			msg := fmt.Sprintf(`at=info method=GET path="/" dyno=web.%d connect=1ms service=12ms status=200 bytes=100`, i%4)
			if i%10 == 0 {
				msg = `at=error code=H12 desc="Request timeout" method=GET path="/slow" dyno=web.1 service=30000ms status=503`
			}
			arc.Add(alert.Line{Time: t, App: app, Source: "heroku", Dyno: "router", Message: msg},
				alert.Line{Time: t, App: app, Source: "app", Dyno: "clock.1", Message: "heartbeat ok"})
		}
	}
	alerttest.BenchRules(b, alerttest.BenchConfig{Searcher: arc, Store: store, Clock: clock, Apps: apps})
}
