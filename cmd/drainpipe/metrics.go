package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe/cloudwatch"
	"github.com/drainpipe/drainpipe/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// The CloudWatch sink puts the metrics' EMF documents into each app's log group.
var _ metrics.EMFWriter = (*cloudwatch.Sink)(nil)

// metricsFlags are the --metrics-* flags of `drainpipe serve`.
type metricsFlags struct {
	enabled                      *bool
	interval                     *time.Duration
	prefix, namespace, dims, env *string
	maxSeries                    *int
}

func addMetricsFlags(f *flags) metricsFlags {
	return metricsFlags{
		enabled:   f.bool("metrics", true, "turn router, dyno, add-on and l2met metrics in the logs into numbers"),
		interval:  f.duration("metrics-interval", time.Minute, "aggregation interval"),
		prefix:    f.string("metrics-prefix", "", "prefix of the exported Prometheus names (default drainpipe_log), e.g. us_east_prod for region.env.app.metric.agg naming"),
		maxSeries: f.int("metrics-max-series", 1000, "series per app at most; samples of further series are counted and dropped"),
		namespace: f.string("metrics-namespace", "drainpipe", "CloudWatch namespace of the EMF metrics (with --cloudwatch)"),
		dims:      f.string("metrics-dimensions", "app,source", "EMF dimensions: app, source, or both"),
		env:       f.string("metrics-static-dimensions", "", "EMF dimensions every metric carries: env=prod,region=eu"),
	}
}

// emfOptions reads the EMF flags; a mistake stops the server at start.
func (f metricsFlags) emfOptions() (metrics.EMFOptions, error) {
	static := map[string]string{}
	for _, kv := range strings.Split(*f.env, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || v == "" {
			return metrics.EMFOptions{}, usagef("--metrics-static-dimensions: %q: want name=value, as in env=prod,region=eu", kv)
		}
		if _, dup := static[k]; dup {
			return metrics.EMFOptions{}, usagef("--metrics-static-dimensions: %q is given twice", k)
		}
		static[k] = v
	}
	opt := metrics.EMFOptions{Namespace: *f.namespace, Dimensions: strings.Split(*f.dims, ","), Static: static}
	if err := opt.Validate(); err != nil {
		return opt, usagef("--metrics-*: %v", err)
	}
	return opt, nil
}

// openMetrics builds the aggregator (registered on reg for /metrics) and its
// history store, <data>/metrics.db (a replica of history, the cluster's metrics
// log), which takes over the history an older drainpipe kept in <data>/archive.db.
func openMetrics(ctx context.Context, f metricsFlags, data string, retention time.Duration, emf metrics.EMFWriter, history metrics.History, log *slog.Logger, reg prometheus.Registerer) (*metrics.Sink, *metrics.Store, error) {
	emfOpt, err := f.emfOptions()
	if err != nil {
		return nil, nil, err
	}
	agg, err := metrics.NewAggregator(metrics.Config{Interval: *f.interval, MaxSeriesPerApp: *f.maxSeries,
		Prefix: *f.prefix, Registerer: reg, Logger: log})
	if err != nil {
		return nil, nil, usagef("metrics: %v", err)
	}
	store, err := metrics.OpenStore(ctx, metrics.StoreConfig{Path: filepath.Join(data, "metrics.db"),
		Legacy: filepath.Join(data, "archive.db"), Logger: log})
	if err != nil {
		return nil, nil, err
	}
	sink := metrics.NewSink(metrics.SinkConfig{Aggregator: agg, Store: store, Retention: retention, EMF: emf,
		EMFOptions: emfOpt, Interval: *f.interval, History: history, Logger: log})
	return sink, store, nil
}

func metricsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("metrics", stderr)
	cf := addClientFlags(f)
	since := f.String("since", "1h", "window start: 1h, 7d (ago), 2026-11-28, RFC 3339, today, yesterday")
	until := f.String("until", "", "window end, same forms (default now)")
	name := f.String("name", "", "only metrics whose name starts with this (router., memory_, dyno.errors.)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: drainpipe metrics APP [--since 1h] [--name PREFIX] [--json]")
	}
	from, err := parseSince(*since, "--since", time.Now())
	if err != nil {
		return err
	}
	to, err := parseUntil(*until, "--until", time.Now())
	if err != nil {
		return err
	}
	if err := emptySpan(from, to, *since, *until); err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	series, err := c.Metrics(ctx, pos[0], from, to, *name)
	if err != nil {
		return fmt.Errorf("metrics %s: %w", pos[0], err)
	}
	if *cf.json {
		if series == nil {
			series = []metrics.Series{}
		}
		return writeJSON(stdout, series)
	}
	return metrics.WriteTable(stdout, series)
}
