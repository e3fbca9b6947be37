package alerttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/internal/testclock"
)

// BenchConfig is what BenchRules evaluates.
type BenchConfig struct {
	// Searcher holds the lines (an archive of 10M lines for the published figure);
	// its watermark must follow Clock.
	Searcher alert.Searcher
	// Store keeps the rules' states (a real JetStream bucket).
	Store alert.Store
	// Clock is the Service's clock and the Searcher's; it starts where the lines'
	// minutes to evaluate start, and moves on a minute per iteration.
	Clock *testclock.Clock
	// Apps are the apps the rules watch, in turn.
	Apps []string
	// Rules is the number of rules; 100 when 0.
	Rules int
}

// BenchRules measures what evaluating Rules one-minute rules costs, every minute: each
// iteration moves the clock on by a minute and evaluates every rule's window, the
// Searcher's work included. It reports the process's CPU time per simulated minute
// as core-%: the share of one core that evaluation every minute takes (the goal is
// at most 5 for 100 rules over 10M lines).
//
// The rules mix what users run: words (H12, R14, a phrase), the Heroku presets
// (router errors by code, dyno memory and crashes by dyno, Heroku dropping logs), and
// absence rules on a heartbeat, a `status:=200` rule that fires when traffic stops.
func BenchRules(b *testing.B, cfg BenchConfig) {
	if cfg.Rules == 0 {
		cfg.Rules = 100
	}
	sealer, err := alert.NewSealer(make([]byte, alert.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	svc, err := alert.New(ctx, alert.Config{Searcher: cfg.Searcher, Store: cfg.Store, Opener: &Recorder{}, Sealer: sealer,
		Grace: time.Second, Now: cfg.Clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	for i := range cfg.Rules {
		if _, err := svc.Add(ctx, benchRule(i, cfg.Apps[i%len(cfg.Apps)])); err != nil {
			b.Fatal(err)
		}
	}
	// The first pass evaluates the minute the rules were added in.
	cfg.Clock.Add(time.Minute)
	if err := svc.Evaluate(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		cfg.Clock.Add(time.Minute)
		if err := svc.Evaluate(ctx); err != nil {
			b.Fatal(err)
		}
	}
	used := cpuTime() - cpu
	b.StopTimer()
	for _, st := range svc.List() {
		if st.Evaluated < int64(b.N) || st.LastError != "" {
			b.Fatalf("rule %s: %d windows evaluated, error %q", st.Rule.Name, st.Evaluated, st.LastError)
		}
	}
	if used > 0 {
		b.ReportMetric(100*used.Seconds()/(float64(b.N)*60), "core-%")
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/minute-of-rules")
}

// benchRule is rule i of the benchmark's mix.
func benchRule(i int, app string) alert.Rule {
	r := alert.Rule{Name: fmt.Sprintf("rule-%03d", i), App: app, Window: time.Minute, Notify: []string{"test://bench"}}
	switch i % 10 {
	case 0, 1:
		r.Preset = "router-errors"
	case 2:
		r.Preset = "dyno-memory"
	case 3:
		r.Preset = "crashes"
	case 4:
		r.Preset = "heroku-dropping-logs"
	case 5, 6:
		r.Kind, r.Query = alert.Absence, "heartbeat"
	case 7:
		r.Query, r.Threshold = "H12", 10
	case 8:
		r.Query, r.Threshold, r.GroupBy = `"Request timeout"`, 5, []string{"dyno"}
	default:
		r.Query, r.Threshold, r.Below = "status:=200", 1, true
	}
	return r
}
