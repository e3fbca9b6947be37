package otlp_test

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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

	"github.com/drainpipe/drainpipe/otlp"
)

var update = flag.Bool("update", false, "capture testdata/sdk-*.pb again from the OpenTelemetry Go SDK")

// seeds are the request bodies in testdata: what the OpenTelemetry Go SDK sends
// (sdk-*.pb, captured with -update) and OTLP/JSON written after the specification's
// examples (*.json). They seed the fuzz tests.
type seed struct {
	name   string
	signal otlp.Signal
	enc    otlp.Encoding
	body   []byte
}

func readSeeds(tb testing.TB) []seed {
	tb.Helper()
	paths, err := filepath.Glob("testdata/*-*.*")
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no seeds in testdata: %v", err)
	}
	var out []seed
	for _, p := range paths {
		body, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		s := seed{name: filepath.Base(p), signal: otlp.Logs, enc: otlp.Protobuf, body: body}
		if strings.Contains(s.name, "metrics") {
			s.signal = otlp.Metrics
		}
		if strings.HasSuffix(p, ".json") {
			s.enc = otlp.JSON
		}
		out = append(out, s)
	}
	return out
}

// TestSeeds holds the seeds to what they are: each decodes, and maps to records
// with nothing rejected except what the file is named for.
func TestSeeds(t *testing.T) {
	if *update {
		captureSDK(t)
	}
	want := map[string]int{"sdk-logs.pb": 3, "sdk-metrics.pb": 5, "spec-logs.json": 2, "spec-metrics.json": 4, "rejected-metrics.json": 1}
	for _, s := range readSeeds(t) {
		var m otlp.Mapped
		if s.signal == otlp.Logs {
			ld, err := otlp.DecodeLogs(s.body, s.enc)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			m = otlp.LogRecords(ld, testDrain, received)
		} else {
			md, err := otlp.DecodeMetrics(s.body, s.enc)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			m = otlp.MetricRecords(md, testDrain, received)
		}
		rejected := strings.HasPrefix(s.name, "rejected")
		if len(m.Records) != want[s.name] || (m.Rejected > 0) != rejected {
			t.Errorf("%s: %d records, %d rejected (%s); want %d records", s.name, len(m.Records), m.Rejected, m.Reason, want[s.name])
		}
	}
}

// captureSDK records what the SDK's OTLP/HTTP exporters send.
func captureSDK(t *testing.T) {
	var mu sync.Mutex
	bodies := map[string][]byte{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies[r.URL.Path] = b
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	ctx := context.Background()
	res := resource.NewSchemaless(attribute.String("service.name", "myapp"), attribute.String("heroku.dyno", "web.1"))

	lexp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(srv.URL+"/v1/logs"))
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(lexp)))
	logger := lp.Logger("seed")
	span := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	for i, body := range []attribute.Value{attribute.StringValue("Started GET \"/\"\n"),
		attribute.MapValue(attribute.String("event", "charged"), attribute.Float64("amount", 9.5)), attribute.Int64Value(42)} {
		var r otellog.Record
		r.SetTimestamp(time.Unix(1764000000, int64(i)))
		r.SetSeverity(otellog.Severity(9 + 4*i))
		r.SetBody(body)
		r.AddAttributes(attribute.String("k", "v"))
		logger.Emit(trace.ContextWithSpanContext(ctx, span), r)
	}
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	mexp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(srv.URL+"/v1/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	view := sdkmetric.NewView(sdkmetric.Instrument{Name: "exp"}, sdkmetric.Stream{Aggregation: sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 20}})
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithView(view), sdkmetric.WithReader(sdkmetric.NewPeriodicReader(mexp)))
	meter := mp.Meter("seed")
	c, _ := meter.Int64Counter("orders")
	c.Add(ctx, 3, metric.WithAttributes(attribute.String("plan", "pro")))
	u, _ := meter.Int64UpDownCounter("queue")
	u.Add(ctx, -2)
	h, _ := meter.Float64Histogram("latency", metric.WithUnit("ms"))
	h.Record(ctx, 12)
	e, _ := meter.Float64Histogram("exp", metric.WithUnit("s"))
	e.Record(ctx, 0.25)
	g, _ := meter.Float64Gauge("temperature")
	g.Record(ctx, 21.5)
	if err := mp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for path, file := range map[string]string{"/v1/logs": "testdata/sdk-logs.pb", "/v1/metrics": "testdata/sdk-metrics.pb"} {
		if err := os.WriteFile(file, bodies[path], 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
