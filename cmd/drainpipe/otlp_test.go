package main_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/metrics"
)

// telemetryDrain is what `drainpipe drains add APP --fir --json` prints.
type telemetryDrain struct {
	App, Drain, Endpoint, Command string
	Headers                       map[string]string
}

// TestFirTelemetryDrain runs the real server as a Fir app would use it: `drains add
// --fir` prints the heroku telemetry:add command, and the OpenTelemetry Go SDK's
// OTLP/HTTP exporters, configured as that command says, deliver logs to the archive
// and metrics to `drainpipe metrics`.
func TestFirTelemetryDrain(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--metrics-interval", "1s")
	out, errOut, code := s.cli("drains", "add", "firapp", "--fir", "--json")
	if code != 0 {
		t.Fatalf("drains add --fir: exit %d: %s", code, errOut)
	}
	var td telemetryDrain
	if err := json.Unmarshal([]byte(out), &td); err != nil {
		t.Fatalf("drains add --fir --json: %v: %q", err, out)
	}
	secret := td.Headers["x-drainpipe-token"]
	wantCmd := `heroku telemetry:add http://127.0.0.1:1 --app firapp --signals logs,metrics --transport http --headers '{"x-drainpipe-token":"` + secret + `"}'`
	if td.App != "firapp" || td.Endpoint != "http://127.0.0.1:1" || secret == "" || td.Command != wantCmd {
		t.Fatalf("drains add --fir --json = %+v\nwant the command %s", td, wantCmd)
	}
	// Asked again, the secret is not shown: the command says where it goes.
	out, _, code = s.cli("drains", "add", "firapp", "--fir")
	if code != 0 || !strings.Contains(out, `'{"x-drainpipe-token":"SECRET"}'`) || strings.Contains(out, secret) {
		t.Fatalf("drains add --fir for an existing drain: exit %d\n%s", code, out)
	}
	if _, errOut, code := s.cli("drains", "add", "firapp", "--fir", "--heroku"); code != 2 || !strings.Contains(errOut, "--fir") {
		t.Fatalf("--fir with --heroku: exit %d %s, want a usage error", code, errOut)
	}

	// Heroku's exporter adds /v1/logs and /v1/metrics to the endpoint it is given;
	// the printed endpoint uses --public-url, so the test sends to the real address.
	endpoint := strings.Replace(td.Endpoint, "http://127.0.0.1:1", s.url, 1)
	res := resource.NewSchemaless(attribute.String("service.name", "firapp"), attribute.String("heroku.dyno", "web.1"))
	ctx := context.Background()
	sendLogs(t, ctx, endpoint, td.Headers, res)
	sendMetrics(t, ctx, endpoint, td.Headers, res)

	// Metric data points are stored as lines too (MsgID otlp.metric), as Heroku's
	// runtime metrics are: the log lines are the others.
	var logs []api.Line
	for _, l := range s.waitLines("firapp", 2+2) {
		if l.MsgID == "" {
			logs = append(logs, l)
		} else if l.MsgID != metrics.PointMsgID || !strings.HasPrefix(l.Message, "orders sum value=7") && !strings.HasPrefix(l.Message, "latency histogram count=3") {
			t.Errorf("metric line %+v", l)
		}
	}
	if len(logs) != 2 || logs[0].Message != "Started GET /" || logs[0].Source != "app" || logs[0].Dyno != "web.1" ||
		logs[0].Priority != 190 || logs[1].Message != "Completed 200" {
		t.Fatalf("stored log lines %+v", logs)
	}
	var series []metrics.Series
	deadline := time.Now().Add(30 * time.Second)
	for find(series, "orders", "web.1") == nil || find(series, "latency", "web.1") == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no OTLP series in drainpipe metrics after 30 s: %+v", series)
		}
		time.Sleep(200 * time.Millisecond)
		out, errOut, code := s.cli("metrics", "firapp", "--since", "1h", "--json")
		if code != 0 {
			t.Fatalf("metrics: exit %d %s", code, errOut)
		}
		series = nil
		if err := json.Unmarshal([]byte(out), &series); err != nil {
			t.Fatalf("metrics --json: %v: %q", err, out)
		}
	}
	if o, l := find(series, "orders", "web.1"), find(series, "latency", "web.1"); o.Sum != 7 || l.Count != 3 || l.Max != 250 || l.Unit != "ms" {
		t.Fatalf("orders %+v latency %+v, want 7 orders and 3 latencies up to 250 ms", *o, *l)
	}
	if n := s.metric("drainpipe_otlp_records_total", `app="firapp",signal="logs"`); n != 2 {
		t.Fatalf("drainpipe_otlp_records_total for logs = %v, want 2", n)
	}
}

func sendLogs(t *testing.T, ctx context.Context, endpoint string, headers map[string]string, res *resource.Resource) {
	t.Helper()
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(endpoint+"/v1/logs"), otlploghttp.WithHeaders(headers),
		otlploghttp.WithCompression(otlploghttp.GzipCompression))
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	logger := lp.Logger("web")
	for i, msg := range []string{"Started GET /", "Completed 200"} {
		var r otellog.Record
		r.SetTimestamp(time.Now().Add(time.Duration(i) * time.Millisecond))
		r.SetSeverity(otellog.SeverityInfo)
		r.SetBody(attribute.StringValue(msg))
		logger.Emit(ctx, r)
	}
	if err := lp.ForceFlush(ctx); err != nil {
		t.Fatalf("export logs: %v", err)
	}
	_ = lp.Shutdown(ctx)
}

func sendMetrics(t *testing.T, ctx context.Context, endpoint string, headers map[string]string, res *resource.Resource) {
	t.Helper()
	exp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(endpoint+"/v1/metrics"), otlpmetrichttp.WithHeaders(headers))
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
	meter := mp.Meter("web")
	orders, _ := meter.Int64Counter("orders")
	orders.Add(ctx, 7)
	latency, _ := meter.Float64Histogram("latency", metric.WithUnit("ms"))
	for _, v := range []float64{12, 40, 250} {
		latency.Record(ctx, v)
	}
	if err := mp.ForceFlush(ctx); err != nil {
		t.Fatalf("export metrics: %v", err)
	}
	_ = mp.Shutdown(ctx)
}

var grpcAddrRe = regexp.MustCompile(`msg="OTLP/gRPC listening" .*addr=(\S+)`)

// TestOTLPGRPCListener: with --otlp-grpc-listen, the SDK's OTLP/gRPC exporter
// delivers to the archive too, and SIGTERM still stops the server within 10 s.
func TestOTLPGRPCListener(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--otlp-grpc-listen", "127.0.0.1:0", "--metrics=false")
	m := grpcAddrRe.FindStringSubmatch(s.logText())
	if m == nil {
		t.Fatalf("no OTLP/gRPC address in the server's log:\n%s", s.logText())
	}
	out, errOut, code := s.cli("drains", "add", "grpcapp", "--fir", "--json")
	if code != 0 {
		t.Fatalf("drains add --fir: exit %d %s", code, errOut)
	}
	var td telemetryDrain
	if err := json.Unmarshal([]byte(out), &td); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(m[1]), otlploggrpc.WithInsecure(), otlploggrpc.WithHeaders(td.Headers))
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)),
		sdklog.WithResource(resource.NewSchemaless(attribute.String("heroku.dyno", "worker.3"))))
	var r otellog.Record
	r.SetBody(attribute.StringValue("over gRPC"))
	lp.Logger("grpc").Emit(ctx, r)
	if err := lp.ForceFlush(ctx); err != nil {
		t.Fatalf("export over gRPC: %v", err)
	}
	_ = lp.Shutdown(ctx)
	if lines := s.waitLines("grpcapp", 1); len(lines) != 1 || lines[0].Message != "over gRPC" || lines[0].Dyno != "worker.3" {
		t.Fatalf("stored %+v", lines)
	}
	if took, err := s.stop(); err != nil || took > 10*time.Second {
		t.Fatalf("SIGTERM: exit %v after %v", err, took)
	}
}

// TestBenchCommandOTLP runs `drainpipe bench --otlp` against the real server: every
// log record it counts as acknowledged is stored, and a wrong secret is reported.
func TestBenchCommandOTLP(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--metrics=false")
	u := s.addDrain("otlpbench")
	out, errOut, code := runDrainpipe(t, nil, "bench", "--otlp", "--url", u, "--duration", "2s", "--connections", "2", "--batch-lines", "50", "--json")
	if code != 0 {
		t.Fatalf("bench --otlp: exit %d: %s", code, errOut)
	}
	var r struct {
		Lines  int64 `json:"lines"`
		Errors int64 `json:"errors"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Lines == 0 || r.Errors != 0 {
		t.Fatalf("bench --otlp --json: %v %q", err, out)
	}
	if got := s.waitLines("otlpbench", int(r.Lines)); len(got) < int(r.Lines) || got[0].Source != "app" || !strings.Contains(got[0].Message, "at=info") {
		t.Fatalf("bench counted %d acknowledged records, %d stored", r.Lines, len(got))
	}
	_, errOut, code = runDrainpipe(t, nil, "bench", "--otlp", "--url", strings.Replace(u, "@", "x@", 1), "--duration", "1s", "--connections", "1")
	if code == 0 || !strings.Contains(errOut, "401") {
		t.Fatalf("bench --otlp with a wrong secret: exit %d %q", code, errOut)
	}
}
