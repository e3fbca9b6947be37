package metrics_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/herokulog"
	"github.com/drainpipe/drainpipe/metrics"
)

// TestExtractLossWordings: logplex.dropped reads Heroku's loss reports with the one
// parser (herokulog), on the wordings two parsers once read differently.
func TestExtractLossWordings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg  string
		want float64 // -1: no sample
	}{
		{"Error L11 (Tail buffer overflow): 4 messages dropped since 2024-05-01T10:00:00+00:00.", -1},
		{"Logplex drain buffer overflowed. 5 messages lost since 2024-05-01T10:00:00+00:00.", 5},
		{"- Error L12: 6 messages dropped since 2024-05-01T10:00:00+00:00", 6},
		{"Error L10 (output buffer overflow): 3 messages dropped since 2015-06-08T21:47:22+00:00.", 3},
	}
	for _, tt := range tests {
		r := drainpipe.Record{App: "a", Time: time.Now(), Source: "heroku", Dyno: "logplex", Message: tt.msg}
		got := -1.0
		_ = metrics.Extract(r, func(s metrics.Sample) {
			if s.Name == "logplex.dropped" {
				got = s.Value
			}
		})
		n, ok := herokulog.LossReport(r)
		if got != tt.want || ok != (tt.want >= 0) || ok && float64(n) != got {
			t.Errorf("%q: logplex.dropped %v, LossReport %d %v; want %v", tt.msg, got, n, ok, tt.want)
		}
	}
}

// TestSinkCountsEachLossOnce: log-shuttle reports one loss both by an L12 line and a
// Logplex-Drop-Count header in the same request; logplex.dropped counts it once, and
// counts what only a header reports.
func TestSinkCountsEachLossOnce(t *testing.T) {
	t.Parallel()
	agg, err := metrics.NewAggregator(metrics.Config{Interval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	sink := metrics.NewSink(metrics.SinkConfig{Aggregator: agg})
	now := time.Date(2026, 11, 22, 10, 0, 30, 0, time.UTC)
	l12 := drainpipe.Record{App: "a", Time: now, Source: "token", Dyno: "log-shuttle",
		Message: "Error L12: 6 messages dropped since 2026-11-22T09:59:00Z"}
	batches := []drainpipe.Batch{
		{App: "a", Received: now, Dropped: herokulog.DropHeaders(http.Header{"Logplex-Drop-Count": {"6"}}), Records: []drainpipe.Record{l12}},
		{App: "a", Received: now, Dropped: herokulog.DropHeaders(http.Header{"Logplex-Lost-Count": {"4"}})},
	}
	if err := sink.Write(context.Background(), []drainpipe.Entry{{Seq: 1, Batches: batches}}); err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, iv := range agg.Flush(now.Add(time.Hour)) {
		if iv.Name == "logplex.dropped" {
			total += iv.Sum
		}
	}
	if total != 10 {
		t.Fatalf("logplex.dropped = %v, want 10 (6 reported twice, 4 by a header only)", total)
	}
}
