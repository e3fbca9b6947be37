package alertsearch_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/alert/alerttest"
	"github.com/drainpipe/drainpipe/alert/jskv"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/archive/alertsearch"
	"github.com/drainpipe/drainpipe/internal/testclock"
	"github.com/drainpipe/drainpipe/journal"
)

// BenchmarkAlertRules: 100 one-minute rules evaluated every minute over the archive
// (VictoriaLogs' engine), through the Searcher that `drainpipe serve` gives them. The archive holds
// DRAINPIPE_ALERT_BENCH_LINES lines (default 1,000,000; the goal is stated for
// 10,000,000: at most 5% of one core), 1,000 a minute over 10 apps: router lines,
// 1% H12, R14 and crashes now and then, a heartbeat per app a minute.
//
//	DRAINPIPE_ALERT_BENCH_LINES=10000000 go test -run '^$' -bench AlertRules -benchtime 100x -timeout 2h ./archive/alertsearch/
func BenchmarkAlertRules(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("DRAINPIPE_ALERT_BENCH_LINES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	arc, err := archive.Open(ctx, archive.Config{Dir: filepath.Join(b.TempDir(), "archive"), Retention: -1, PruneInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer arc.Close()
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	apps := fillBenchArchive(b, arc, start, n)
	minutes := n / 1000
	// The archive is written once; the sub-benchmark runs (b.N = 1, then the rest)
	// each start a new store and clock over it.
	b.Run(fmt.Sprintf("rules=100/lines=%d", n), func(b *testing.B) {
		if b.N > minutes-2 {
			b.Fatalf("%d iterations, but the archive holds %d minutes of lines", b.N, minutes)
		}
		j, err := journal.Open(ctx, journal.Config{Dir: filepath.Join(b.TempDir(), "journal")})
		if err != nil {
			b.Fatal(err)
		}
		defer j.Close()
		store, err := jskv.Open(ctx, j.JetStream(), 1)
		if err != nil {
			b.Fatal(err)
		}
		// The minutes evaluated are the archive's last: searches run over the whole
		// index, as they will after days of lines.
		clock := testclock.New(start.Add(time.Duration(minutes-b.N-2) * time.Minute))
		searcher := alertsearch.New(alertsearch.Config{Archive: arc, Apps: func() []string { return apps },
			Lag: func(context.Context) (time.Duration, error) { return 0, nil }, Slack: slack, Now: clock.Now})
		alerttest.BenchRules(b, alerttest.BenchConfig{Searcher: searcher, Store: store, Clock: clock, Apps: apps})
	})
}

// fillBenchArchive writes n lines, 1,000 a minute from start, and returns the apps.
func fillBenchArchive(b *testing.B, arc *archive.Archive, start time.Time, n int) []string {
	b.Helper()
	apps := make([]string, 10)
	for i := range apps {
		apps[i] = fmt.Sprintf("app-%d", i)
	}
	began := time.Now()
	var seq uint64
	const perBatch = 5000
	for done := 0; done < n; done += perBatch {
		recs := make([]drainpipe.Record, 0, perBatch)
		for i := done; i < min(done+perBatch, n); i++ {
			at := start.Add(time.Duration(i) * 60 * time.Millisecond) // 1,000 a minute
			recs = append(recs, benchRecord(i, apps[i%len(apps)], at))
		}
		seq++
		err := arc.Write(context.Background(), []drainpipe.Entry{{Journal: "bench", Seq: seq, Batches: []drainpipe.Batch{{App: "x", Received: start, Records: recs}}}})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("archive of %d lines written in %s", n, time.Since(began).Round(time.Second))
	return apps
}

func benchRecord(i int, app string, at time.Time) drainpipe.Record {
	r := drainpipe.Record{App: app, Drain: "d_" + app, Time: at, Received: at, Priority: 158, Host: "host", Source: "heroku", Dyno: "router"}
	switch {
	case i%1000 < 10:
		r.Source, r.Dyno, r.Message = "app", "clock.1", "heartbeat ok"
	case i%100 == 17:
		r.Message = fmt.Sprintf(`at=error code=H12 desc="Request timeout" method=GET path="/slow/%d" host=%s.herokuapp.com request_id=%08x fwd="10.0.0.1" dyno=web.%d connect=0ms service=30000ms status=503 bytes=0 protocol=https`, i, app, i, i%4)
	case i%997 == 3:
		r.Dyno, r.Message = fmt.Sprintf("web.%d", i%4), "Error R14 (Memory quota exceeded)"
	case i%4999 == 5:
		r.Dyno, r.Message = fmt.Sprintf("web.%d", i%4), "State changed from up to crashed"
	default:
		r.Message = fmt.Sprintf(`at=info method=GET path="/items/%d" host=%s.herokuapp.com request_id=%08x fwd="10.0.0.1" dyno=web.%d connect=1ms service=%dms status=200 bytes=%d protocol=https`, i%5000, app, i, i%4, 5+i%200, 100+i%9000)
	}
	return r
}
