package httpd_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/httpd"
	"github.com/drainpipe/drainpipe/journal"
	"github.com/drainpipe/drainpipe/metrics"
)

// firResource is what a Fir dyno's telemetry says about itself.
var firResource = resource.NewSchemaless(
	attribute.String("service.name", "myapp"),
	attribute.String("heroku.app.name", "myapp"),
	attribute.String("heroku.dyno", "web.1"),
	attribute.String("cloud.provider", "heroku"),
	attribute.String("cloud.region", "virginia"),
)

// errorsProcessor exports each record at once, as the SDK's simple processor
// does, and keeps the exporter's errors for the test (the SDK would hand them to
// the global error handler).
type errorsProcessor struct {
	sdklog.Processor
	mu   sync.Mutex
	errs []error
}

func (p *errorsProcessor) OnEmit(ctx context.Context, r *sdklog.Record) error {
	err := p.Processor.OnEmit(ctx, r)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs = append(p.errs, err)
	return err
}

func (p *errorsProcessor) last() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errs[len(p.errs)-1]
}

// sdkLogger is the OpenTelemetry Go SDK's logger exporting to url over OTLP/HTTP.
func sdkLogger(t *testing.T, url string, opts ...otlploghttp.Option) (otellog.Logger, *errorsProcessor) {
	t.Helper()
	opts = append([]otlploghttp.Option{otlploghttp.WithEndpointURL(url),
		otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}), otlploghttp.WithTimeout(10 * time.Second)}, opts...)
	exp, err := otlploghttp.New(context.Background(), opts...)
	if err != nil {
		t.Fatalf("exporter: %v", err)
	}
	p := &errorsProcessor{Processor: sdklog.NewSimpleProcessor(exp)}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(firResource), sdklog.WithProcessor(p))
	t.Cleanup(func() { _ = lp.Shutdown(context.Background()) })
	return lp.Logger("checkout", otellog.WithInstrumentationVersion("1.2.3")), p
}

func TestOTLPLogsFromTheSDK(t *testing.T) {
	t.Parallel()
	e := newOTLPEnv(t, journal.Config{}, httpd.Config{}, true)
	sent := time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC)
	span := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: trace.FlagsSampled})
	ctx := trace.ContextWithSpanContext(context.Background(), span)
	transports := []struct {
		name string
		opts []otlploghttp.Option
	}{
		{"x-drainpipe-token", []otlploghttp.Option{otlploghttp.WithHeaders(map[string]string{"x-drainpipe-token": e.secret})}},
		{"bearer and gzip", []otlploghttp.Option{otlploghttp.WithHeaders(map[string]string{"Authorization": "Bearer " + e.secret}),
			otlploghttp.WithCompression(otlploghttp.GzipCompression)}},
	}
	for i, tr := range transports {
		logger, errs := sdkLogger(t, e.srv.URL+"/v1/logs", tr.opts...)
		var r otellog.Record
		r.SetTimestamp(sent)
		r.SetSeverity(otellog.SeverityWarn)
		r.SetSeverityText("WARN")
		r.SetBody(attribute.StringValue("payment slow: " + tr.name))
		r.AddAttributes(attribute.String("order.id", "o-42"), attribute.Int("attempt", i))
		logger.Emit(ctx, r)
		if err := errs.last(); err != nil {
			t.Fatalf("%s: export: %v", tr.name, err)
		}
		var structured otellog.Record
		structured.SetObservedTimestamp(sent)
		structured.SetBody(attribute.MapValue(attribute.String("event", "charged"), attribute.Float64("amount", 9.5)))
		logger.Emit(context.Background(), structured)
		if err := errs.last(); err != nil {
			t.Fatalf("%s: export: %v", tr.name, err)
		}
	}
	recs := records(e.sink.wait(t, 4))
	if len(recs) != 4 {
		t.Fatalf("%d records journaled, want 4", len(recs))
	}
	for i, r := range recs {
		if r.App != "myapp" || r.Drain != e.drain.ID || r.Source != "app" || r.Dyno != "web.1" || r.Host != "virginia" || !r.Time.Equal(sent) {
			t.Errorf("record %d: %+v", i, r)
		}
		if attr(r, "otel.scope.name") != "checkout" || attr(r, "otel.scope.version") != "1.2.3" || attr(r, "cloud.provider") != "heroku" {
			t.Errorf("record %d: scope or resource fields missing: %+v", i, r.Attrs)
		}
	}
	plain, structured := recs[2], recs[3]
	if plain.Message != "payment slow: bearer and gzip" || plain.Priority != 23*8+4 || attr(plain, "severity_text") != "WARN" ||
		attr(plain, "order.id") != "o-42" || attr(plain, "attempt") != "1" ||
		attr(plain, "trace_id") != "0102030405060708090a0b0c0d0e0f10" || attr(plain, "span_id") != "0102030405060708" {
		t.Errorf("plain record: %+v", plain)
	}
	if structured.Message != `{"amount":9.5,"event":"charged"}` || attr(structured, "event") != "charged" || attr(structured, "amount") != "9.5" ||
		structured.Priority != -1 || attr(structured, "trace_id") != "" {
		t.Errorf("structured record: %+v", structured)
	}
}

func TestOTLPWrongTokenStoresNothing(t *testing.T) {
	t.Parallel()
	e := newOTLPEnv(t, journal.Config{}, httpd.Config{}, true)
	for _, header := range []map[string]string{
		{"x-drainpipe-token": "not-the-secret"},
		{"Authorization": "Bearer " + e.secret + "x"},
		{"Authorization": "Basic " + e.secret},
		{},
	} {
		logger, errs := sdkLogger(t, e.srv.URL+"/v1/logs", otlploghttp.WithHeaders(header))
		var r otellog.Record
		r.SetBody(attribute.StringValue("must not be stored"))
		logger.Emit(context.Background(), r)
		if err := errs.last(); err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("headers %v: export error %v, want a 401", header, err)
		}
	}
	// The journal is read in order: once a good line arrives, nothing before it can.
	logger, errs := sdkLogger(t, e.srv.URL+"/v1/logs", otlploghttp.WithHeaders(map[string]string{"x-drainpipe-token": e.secret}))
	var r otellog.Record
	r.SetBody(attribute.StringValue("the good one"))
	logger.Emit(context.Background(), r)
	if err := errs.last(); err != nil {
		t.Fatal(err)
	}
	recs := records(e.sink.wait(t, 1))
	if len(recs) != 1 || recs[0].Message != "the good one" {
		t.Fatalf("journaled %+v, want only the good line", recs)
	}
}

func TestOTLPMetricsFromTheSDK(t *testing.T) {
	t.Parallel()
	e := newOTLPEnv(t, journal.Config{}, httpd.Config{}, true)
	ctx := context.Background()
	exp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(e.srv.URL+"/v1/metrics"),
		otlpmetrichttp.WithHeaders(map[string]string{"x-drainpipe-token": e.secret}),
		otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression),
		otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	expView := sdkmetric.NewView(sdkmetric.Instrument{Name: "latency.exp"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 20}})
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(firResource), sdkmetric.WithView(expView),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	meter := mp.Meter("shop")
	orders, _ := meter.Int64Counter("orders", metric.WithUnit("{order}"))
	queue, _ := meter.Int64UpDownCounter("queue.depth")
	latency, _ := meter.Float64Histogram("latency", metric.WithUnit("ms"))
	latencyExp, _ := meter.Float64Histogram("latency.exp", metric.WithUnit("s"))
	temp, _ := meter.Float64Gauge("temperature")
	pro := metric.WithAttributes(attribute.String("plan", "pro"))

	// Cumulative temporality, the SDK's default: two exports, the second counting
	// only what came after the first.
	orders.Add(ctx, 3, pro)
	orders.Add(ctx, 4, pro)
	queue.Add(ctx, 10)
	for _, v := range []float64{3, 8, 40, 120} {
		latency.Record(ctx, v)
		latencyExp.Record(ctx, v/1000)
	}
	temp.Record(ctx, 21.5)
	if err := mp.ForceFlush(ctx); err != nil {
		t.Fatalf("first export: %v", err)
	}
	orders.Add(ctx, 5, pro)
	queue.Add(ctx, -3)
	latency.Record(ctx, 900)
	latencyExp.Record(ctx, 0.9)
	if err := mp.ForceFlush(ctx); err != nil {
		t.Fatalf("second export: %v", err)
	}
	entries := e.sink.wait(t, 10)

	// The metrics sink aggregates what the journal delivered.
	agg, err := metrics.NewAggregator(metrics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := metrics.NewSink(metrics.SinkConfig{Aggregator: agg}).Write(ctx, entries); err != nil {
		t.Fatal(err)
	}
	got := map[string]metrics.Interval{}
	for _, iv := range agg.Flush(time.Now().Add(time.Hour)) {
		if prev, ok := got[iv.Name]; ok { // the two exports may straddle an interval
			if err := prev.Merge(iv); err != nil {
				t.Fatal(err)
			}
			iv = prev
		}
		got[iv.Name] = iv
	}
	for _, r := range records(entries) {
		if r.MsgID != metrics.PointMsgID || r.Dyno != "web.1" || r.App != "myapp" {
			t.Errorf("point record %+v", r)
		}
	}
	checks := []struct {
		name string
		kind metrics.Kind
		ok   func(metrics.Interval) bool
		want string
	}{
		{`orders{plan="pro"}`, metrics.Counter, func(iv metrics.Interval) bool { return iv.Sum == 12 }, "sum 12"},
		{"queue.depth", metrics.Gauge, func(iv metrics.Interval) bool { return iv.Last == 7 && iv.Max == 10 }, "last 7, max 10"},
		{"latency", metrics.Distribution, func(iv metrics.Interval) bool {
			return iv.Count == 5 && iv.Sum == 1071 && iv.Unit == "ms" && iv.Quantile(1) >= 750 && iv.Quantile(0) <= 5
		}, "count 5, sum 1071, q0 ≤ 5 and q1 ≥ 750 (its buckets)"},
		{"latency.exp", metrics.Distribution, func(iv metrics.Interval) bool {
			return iv.Count == 5 && iv.Unit == "s" && within(iv.Quantile(1), 0.9, 0.02) && within(iv.Quantile(0), 0.003, 0.02)
		}, "count 5, q0 ≈ 0.003 and q1 ≈ 0.9"},
		{"temperature", metrics.Gauge, func(iv metrics.Interval) bool { return iv.Last == 21.5 }, "last 21.5"},
	}
	for _, c := range checks {
		iv, ok := got[c.name]
		if !ok || iv.Kind != c.kind || iv.Source != "web.1" || !c.ok(iv) {
			t.Errorf("series %s: %+v (present %v), want a %s from web.1 with %s", c.name, iv, ok, c.kind, c.want)
		}
	}
}

func within(got, want, rel float64) bool { return got >= want*(1-rel) && got <= want*(1+rel) }

var _ drainpipe.Sink = (*journalSink)(nil)
