// Package metrics turns the metrics in Heroku logs into numbers: it extracts samples
// from lines (Extract), sums them per app, series and interval (Aggregator), and
// writes the closed intervals out to Prometheus, CloudWatch EMF (EMF) and a SQLite
// history (Store).
//
// # What is extracted
//
// Router lines give router.requests, router.status.2xx (1xx-5xx), router.errors.H12
// (counters), and router.connect, router.service (ms) and router.bytes (bytes) as
// distributions, with the serving dyno as source ("" when none did). Dyno runtime
// metrics (sample#memory_rss=139.79MB) are gauges named without their prefix, with
// source= as source; the old `measure=memory_rss val=21.22 units=MB` form is read
// as the same gauge (for memory_* and load_avg_* names; other legacy measure= lines
// are distributions), its source "heroku.<id>.web.1.<uuid>" as "web.1".
// "Error R14 ..." gives the counter dyno.errors.R14 for the dyno; logplex's and
// log-shuttle's drop reports (L10, L12, L13) give logplex.dropped, counting the lines
// lost. Add-on lines are sample# gauges with source= (DATABASE, REDIS), else addon=,
// as source. Any line's l2met fields give measure# distributions, count# counters
// (an empty value counts 1), sample# gauges, unique# distinct counts and legacy
// measure.name= distributions, with the line's source= or else the record's dyno as
// source. A value is a decimal number, maybe negative or fractional, followed by its
// unit letters (ms, s, MB, kB, bytes, pages, %); anything else is an extraction
// failure, counted in drainpipe_metrics_extract_failures_total{app}. So is a value
// beyond ±2^360 (CloudWatch's bound), from a line or an OpenTelemetry point (its
// value, sum, min, max, bucket bounds and exponential buckets alike).
//
// # OpenTelemetry metrics
//
// Heroku Fir's telemetry drains send OTLP metrics; package otlp journals each data
// point as a record of PointMsgID (see Point), and the aggregator reads it from its
// attributes. A point's series is its metric name followed by its attributes,
// `http.server.duration{http.route="/users"}` (see FormatLabels), with the dyno as
// source and the unit shortened ("By" is "bytes", "{request}" and "1" are none).
// Gauges and cumulative up-down sums (a level) are Gauge samples; delta sums are
// Counter samples; cumulative monotonic sums become Counter samples of their increase
// since the series' previous point (the first point of a series that started more
// than two intervals before it is only a baseline, and a repeated or older point
// adds nothing, so an exporter's retry is not counted twice); histograms, explicit or
// exponential, delta or cumulative (made delta the same way), are Distributions
// whose sketch gets a representative value per bucket (see histogram.go for the error
// this adds). Summaries are refused by the receiver: their quantiles do not merge.
// Prometheus shows a point's attributes as labels, EMF as dimensions.
//
// # Intervals
//
// A series is an app's (name, unit, kind, source). Each interval keeps count, sum,
// min, max and last, plus a DDSketch (1% relative accuracy, negative values and zero
// included) for distributions and gauges, or a distinct set (exact up to
// DistinctExact values, then HyperLogLog) for unique metrics. Intervals merge across
// time and across nodes. A quantile is clamped to the interval's [min, max]: the
// sketch's 1% never puts it beyond the values seen.
//
// A line's samples go to the interval of its own time, unless that is more than
// the retention (Config.Retention, else the Sink's) before, or more than MaxAhead
// (a day) after, when the line was received: then to the received time, as the
// archive does. Store.Prune deletes intervals past the retention, and those that
// start more than a day ahead of now (a history written before this rule).
//
// Sums stay finite: with values bounded by 2^360 it would take 2^663 samples to
// overflow, but a sample (or histogram point) whose addition would is refused and
// counted rather than making the sum +Inf, and merged intervals' sums saturate at
// ±math.MaxFloat64. The sketch reports a value it cannot index instead of dropping
// it. The history stores and reads only intervals whose numbers are all finite (a
// row with +Inf, written by an older version, is left out of queries), so the API's
// JSON can always carry them.
//
// # Prometheus names
//
// The collector shows the last closed interval of each series as gauges labelled
// app and source. A metric's name is Config.Prefix (default "drainpipe_log"), '_',
// the metric name and '_' its unit in lower case ('%' as "percent"), every byte
// outside [a-zA-Z0-9_:] turned into '_':
//
//	router.service (ms)  drainpipe_log_router_service_ms{app,source,quantile="0.5|0.95|0.99"}
//	                     drainpipe_log_router_service_ms_count, _sum, _min, _max, _last
//	router.requests      drainpipe_log_router_requests{app,source}    (the interval's sum)
//	unique#user          drainpipe_log_user_distinct{app,source}
//
// Operators who name metrics region.env.app.metric.agg (us-east.prod.app.memory_rss.median)
// get the same parts here: region.env is the Prefix ("us-east.prod" becomes
// us_east_prod_memory_rss_mb), app is the app label, metric the name and agg the
// quantile label or the _min/_max/... suffix; the dyno is the source label. Two
// series whose names sanitise alike are not both shown, nor two whose metric names
// meet (sample#workers_max and the _max of sample#workers, or a different kind,
// unit or attributes under one name): a Prometheus family has one help text and one
// set of labels, and a scrape must not fail. A series is shown whole or not at
// all, the first in order of app, name, unit, source and kind; the others are
// counted in drainpipe_metrics_hidden_series.
package metrics
