package otlp_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/drains"
	"github.com/drainpipe/drainpipe/journal"
	"github.com/drainpipe/drainpipe/otlp"
)

// grpcEnv is the OTLP/gRPC transport on 127.0.0.1 in front of a real journal
// and drain store.
type grpcEnv struct {
	addr   string
	j      *journal.Journal
	secret string
	mu     sync.Mutex
	got    []drainpipe.Record
}

func newGRPCEnv(t *testing.T, jcfg journal.Config, cfg otlp.GRPCConfig, consume bool) *grpcEnv {
	t.Helper()
	ctx := context.Background()
	jcfg.Dir, jcfg.Sinks = t.TempDir(), []string{"grpc-test"}
	j, err := journal.Open(ctx, jcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	ds, err := drains.Open(ctx, drains.Config{JetStream: j.JetStream()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	d, secret, _ := drainpipe.NewDrain("myapp", time.Now())
	if _, _, err := ds.Add(ctx, d); err != nil {
		t.Fatal(err)
	}
	rc, err := otlp.NewReceiver(otlp.ReceiverConfig{Journal: j})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Receiver, cfg.Drains = rc, ds
	srv := otlp.NewGRPCServer(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	e := &grpcEnv{addr: ln.Addr().String(), j: j, secret: secret}
	if consume {
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = j.Consume(cctx, e, journal.ConsumeOptions{}) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	return e
}

func (e *grpcEnv) Name() string { return "grpc-test" }

func (e *grpcEnv) Write(_ context.Context, entries []drainpipe.Entry) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, en := range entries {
		for _, b := range en.Batches {
			e.got = append(e.got, b.Records...)
		}
	}
	return nil
}

// wait returns the records journaled once there are n, failing after 10 s.
func (e *grpcEnv) wait(t *testing.T, n int) []drainpipe.Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.mu.Lock()
		got := append([]drainpipe.Record(nil), e.got...)
		e.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records journaled in 10 s, want %d", len(got), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// emit sends one log record with the SDK's OTLP/gRPC exporter and returns its error.
func (e *grpcEnv) emit(t *testing.T, headers map[string]string, body string) error {
	t.Helper()
	ctx := context.Background()
	exp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(e.addr), otlploggrpc.WithInsecure(), otlploggrpc.WithHeaders(headers),
		otlploggrpc.WithCompressor("gzip"), otlploggrpc.WithRetry(otlploggrpc.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(ctx)
	// The SDK makes its records in a logger: a processor keeps the one emitted, for
	// the test to export it and see the exporter's error.
	keep := &keepProcessor{}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(resource.NewSchemaless(attribute.String("heroku.dyno", "worker.1"))), sdklog.WithProcessor(keep))
	var r otellog.Record
	r.SetBody(attribute.StringValue(body))
	r.SetTimestamp(time.Now())
	lp.Logger("grpc-test").Emit(ctx, r)
	return exp.Export(ctx, []sdklog.Record{keep.rec})
}

type keepProcessor struct {
	sdklog.Processor
	rec sdklog.Record
}

func (k *keepProcessor) OnEmit(_ context.Context, r *sdklog.Record) error {
	k.rec = r.Clone()
	return nil
}
func (k *keepProcessor) Shutdown(context.Context) error   { return nil }
func (k *keepProcessor) ForceFlush(context.Context) error { return nil }

func TestGRPCLogsFromTheSDK(t *testing.T) {
	t.Parallel()
	e := newGRPCEnv(t, journal.Config{}, otlp.GRPCConfig{}, true)
	if err := e.emit(t, map[string]string{"x-drainpipe-token": "wrong"}, "refused"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("wrong token: %v, want Unauthenticated", err)
	}
	if err := e.emit(t, nil, "refused"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("no token: %v, want Unauthenticated", err)
	}
	if err := e.emit(t, map[string]string{"x-drainpipe-token": e.secret}, "one"); err != nil {
		t.Fatal(err)
	}
	if err := e.emit(t, map[string]string{"authorization": "Bearer " + e.secret}, "two"); err != nil {
		t.Fatal(err)
	}
	got := e.wait(t, 2)
	if len(got) != 2 || got[0].Message != "one" || got[1].Message != "two" || got[0].Dyno != "worker.1" || got[0].App != "myapp" {
		t.Fatalf("journaled %+v, want one and two only", got)
	}
}

// pdataClient sends requests with the OpenTelemetry collector's own gRPC client.
func pdataClient(t *testing.T, addr, secret string) (plogotlp.GRPCClient, context.Context) {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // for all the test's calls
	t.Cleanup(cancel)
	return plogotlp.NewGRPCClient(cc), metadata.AppendToOutgoingContext(ctx, "x-drainpipe-token", secret)
}

func logsRequest(n, size int) plogotlp.ExportRequest {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for range n {
		lrs.AppendEmpty().Body().SetStr(strings.Repeat("x", size))
	}
	return plogotlp.NewExportRequestFromLogs(ld)
}

func TestGRPCLimitsAndFullJournal(t *testing.T) {
	t.Parallel()
	e := newGRPCEnv(t, journal.Config{MaxBytes: 256 << 10}, otlp.GRPCConfig{MaxMessage: 64 << 10}, false)
	client, ctx := pdataClient(t, e.addr, e.secret)
	if _, err := client.Export(ctx, logsRequest(100, 1000)); status.Code(err) != codes.ResourceExhausted || retryDelay(err) != 0 {
		t.Fatalf("a message over MaxMessage: %v, want ResourceExhausted without a retry", err)
	}
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = client.Export(ctx, logsRequest(50, 1000))
	}
	if status.Code(err) != codes.ResourceExhausted || retryDelay(err) <= 0 {
		t.Fatalf("full journal: %v, want ResourceExhausted with a RetryInfo", err)
	}
}

// retryDelay is the RetryInfo delay in err's status, or 0.
func retryDelay(err error) time.Duration {
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	return 0
}
