package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/drainpipe/drainpipe/bench"
	"github.com/drainpipe/drainpipe/lambda"
)

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("bench", stderr)
	u := f.string("url", "", "drain URL to load, with its credentials")
	dur := f.duration("duration", 10e9, "how long to send")
	conns := f.int("connections", 16, "concurrent connections")
	lines := f.int("batch-lines", 400, "lines per request (400 × 250 B ≈ logplex's 100 KB batches)")
	size := f.int("line-bytes", 250, "bytes per line")
	asJSON := f.Bool("json", false, "print the result as JSON")
	metricsURL := f.string("metrics-url", "", "the server's Prometheus metrics, read for its peak resident memory (default /metrics on the drain URL's host; - for none)")
	otlp := f.Bool("otlp", false, "send OpenTelemetry logs (OTLP/HTTP protobuf, as Fir's telemetry drains) to the drain URL's server at /v1/logs instead of logplex")
	if pos, err := f.parse(args); err != nil {
		return err
	} else if len(pos) > 0 || *u == "" {
		return usagef("usage: drainpipe bench --url DRAIN_URL [--duration 30s] [--connections 16]")
	}
	// A zero would otherwise run with a default the user did not ask for.
	if err := cmp.Or(positive("duration", *dur), positive("connections", *conns), positive("batch-lines", *lines), positive("line-bytes", *size)); err != nil {
		return err
	}
	// Bodies over the server's default --max-body would only be answered 413.
	cfg := bench.Config{URL: *u, Duration: *dur, Connections: *conns, BatchLines: *lines, LineBytes: *size, MetricsURL: *metricsURL,
		MaxBody: lambda.DefaultMaxBody}
	if *otlp {
		cfg.Protocol = bench.OTLP
	}
	if isTerminal(stderr) {
		cfg.Progress = func(r bench.Result) {
			fmt.Fprintf(stderr, "\r%6.0fs  %10.0f lines/s  %7.1f MB/s  p99 %6.1f ms  errors %d ",
				r.Elapsed.Seconds(), r.LinesPerSec, r.MBPerSec, r.P99Ms, r.Errors)
		}
	}
	r, err := bench.Run(ctx, cfg)
	if cfg.Progress != nil {
		fmt.Fprintln(stderr)
	}
	var ce *bench.ConfigError
	switch {
	case errors.As(err, &ce) && ce.Flag == "url":
		return usagef("%v, not %s", err, redactURL(*u)) // never the secret
	case errors.As(err, &ce):
		return usagef("%v", err)
	case err != nil:
		return err
	}
	if *asJSON {
		return writeJSON(stdout, r)
	}
	fmt.Fprintf(stdout, "%d lines in %.1fs over %d connections: %.0f lines/s, %.1f MB/s, ack latency p50 %.1f ms, p99 %.1f ms, %d errors\n",
		r.Lines, r.Elapsed.Seconds(), cfg.Connections, r.LinesPerSec, r.MBPerSec, r.P50Ms, r.P99Ms, r.Errors)
	if r.ServerRSSPeakMB > 0 {
		fmt.Fprintf(stdout, "server peak resident memory %.0f MiB (its /metrics, sampled)\n", r.ServerRSSPeakMB)
	} else {
		fmt.Fprintf(stdout, "server peak resident memory unknown: %s\n", r.ServerRSSUnknown)
	}
	if r.LastError != "" {
		fmt.Fprintf(stdout, "last error: %s\n", r.LastError)
	}
	if r.Requests == 0 && r.Errors > 0 {
		return fmt.Errorf("every request failed: %s", r.LastError)
	}
	return nil
}
