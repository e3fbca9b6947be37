package otlp

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // exporters may compress with gzip
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/drainpipe/drainpipe"
)

// Authenticator finds the drain a secret belongs to; the drain store implements it
// (the secret's hash is compared in constant time).
type Authenticator interface {
	Authenticate(secret string) (drainpipe.Drain, bool)
	// Health is nil while the store can be trusted to say a secret is unknown; a
	// store that lost its drains makes unknown credentials Unavailable (retried),
	// not Unauthenticated (dropped), as /logs answers them 503, not 401.
	Health() error
}

// GRPCConfig configures the OTLP/gRPC transport.
type GRPCConfig struct {
	// Receiver journals the exports; required.
	Receiver *Receiver
	// Drains authenticates requests by their x-drainpipe-token or bearer metadata.
	Drains Authenticator
	// MaxMessage is the largest request accepted, after decompression (gzip bombs
	// included); default 8 MiB, as --max-body.
	MaxMessage int
	// MaxStreams bounds the requests one connection has in flight; default 64.
	MaxStreams uint32
}

// NewGRPCServer returns a gRPC server with OTLP's logs and metrics services
// (opentelemetry.proto.collector.{logs,metrics}.v1), answering as OTLP/gRPC says:
// OK with a partial success when some records were refused, Unauthenticated (but
// Unavailable with a RetryInfo while the drain store lost drains), InvalidArgument
// for a message over MaxMessage, ResourceExhausted (journal full) and Unavailable
// (journal slow or down) with a RetryInfo, which exporters retry.
// opts add to the server's options (TLS credentials). Serve it on a listener whose
// connections are capped; GracefulStop it.
func NewGRPCServer(cfg GRPCConfig, opts ...grpc.ServerOption) *grpc.Server {
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = 8 << 20
	}
	if cfg.MaxStreams == 0 {
		cfg.MaxStreams = 64
	}
	g := &grpcTransport{cfg: cfg}
	opts = append(opts, grpc.InTapHandle(g.tap), grpc.StatsHandler(g))
	s := grpc.NewServer(append([]grpc.ServerOption{
		grpc.MaxRecvMsgSize(cfg.MaxMessage),
		grpc.MaxConcurrentStreams(cfg.MaxStreams),
		grpc.ConnectionTimeout(10 * time.Second),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 2 * time.Minute, Time: time.Minute, Timeout: 20 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}, opts...)...)
	plogotlp.RegisterGRPCServer(s, &grpcLogs{g: g})
	pmetricotlp.RegisterGRPCServer(s, &grpcMetrics{g: g})
	return s
}

type grpcTransport struct{ cfg GRPCConfig }

type grpcLogs struct {
	plogotlp.UnimplementedGRPCServer
	g *grpcTransport
}

// Export journals a logs request.
func (s *grpcLogs) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	d, err := s.g.authenticate(ctx, Logs)
	if err != nil {
		return plogotlp.NewExportResponse(), err
	}
	res, err := s.g.cfg.Receiver.ExportLogs(ctx, d, req.Logs())
	if err != nil {
		return plogotlp.NewExportResponse(), s.g.fail(Logs, err)
	}
	s.g.cfg.Receiver.Answered("grpc", Logs, int(codes.OK))
	return LogsResponse(res), nil
}

type grpcMetrics struct {
	pmetricotlp.UnimplementedGRPCServer
	g *grpcTransport
}

// Export journals a metrics request.
func (s *grpcMetrics) Export(ctx context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	d, err := s.g.authenticate(ctx, Metrics)
	if err != nil {
		return pmetricotlp.NewExportResponse(), err
	}
	res, err := s.g.cfg.Receiver.ExportMetrics(ctx, d, req.Metrics())
	if err != nil {
		return pmetricotlp.NewExportResponse(), s.g.fail(Metrics, err)
	}
	s.g.cfg.Receiver.Answered("grpc", Metrics, int(codes.OK))
	return MetricsResponse(res), nil
}

// authenticate finds the drain of the request's x-drainpipe-token, or bearer
// authorization, metadata.
func (g *grpcTransport) authenticate(ctx context.Context, sig Signal) (drainpipe.Drain, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	secret := first1(md.Get("x-drainpipe-token"))
	if secret == "" {
		secret, _ = strings.CutPrefix(first1(md.Get("authorization")), "Bearer ")
	}
	if secret = strings.TrimSpace(secret); secret != "" {
		if d, ok := g.cfg.Drains.Authenticate(secret); ok {
			return d, nil
		}
	}
	if err := g.cfg.Drains.Health(); err != nil {
		g.cfg.Receiver.Answered("grpc", sig, int(codes.Unavailable))
		return drainpipe.Drain{}, retryable(codes.Unavailable, "the drain store is unavailable; retry later", LostStoreRetry)
	}
	g.cfg.Receiver.Answered("grpc", sig, int(codes.Unauthenticated))
	return drainpipe.Drain{}, status.Error(codes.Unauthenticated,
		"missing or wrong drain token: send the drain's secret as x-drainpipe-token or authorization: Bearer metadata")
}

func first1(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// fail maps a failure to its status: a request over the caps is refused for good,
// a journal failure gets a retryable status with a RetryInfo.
func (g *grpcTransport) fail(sig Signal, err error) error {
	if errors.Is(err, ErrTooLarge) {
		g.cfg.Receiver.Answered("grpc", sig, int(codes.ResourceExhausted))
		return status.Error(codes.ResourceExhausted, err.Error())
	}
	code, delay := codes.Unavailable, time.Second
	if errors.Is(err, drainpipe.ErrJournalFull) {
		code, delay = codes.ResourceExhausted, 5*time.Second
	}
	g.cfg.Receiver.Answered("grpc", sig, int(code))
	return retryable(code, err.Error(), delay)
}

// retryable is a status that tells the exporter to retry after delay.
func retryable(code codes.Code, msg string, delay time.Duration) error {
	st, err := status.New(code, msg).WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(delay)})
	if err != nil {
		return status.Error(code, msg)
	}
	return st.Err()
}

// LostStoreRetry is the delay an exporter is asked to wait when credentials are
// unknown to a drain store that lost drains: they may be good ones it forgot, and
// the store comes back only when an operator restores it (as /logs' Retry-After: 60).
const LostStoreRetry = 60 * time.Second

// releaseKey holds, in a call's context, the decoding slot its tap took.
type releaseKey struct{}

// callTimeout bounds how long a call may hold its decoding slot, so that a client
// that trickles its message in cannot keep it: exporters give up after 10 s.
const callTimeout = 15 * time.Second

// tap takes a decoding slot for each call before its message is read, so that only
// MaxDecoding requests are held decoded at once (see MaxRecords), and gives the
// call callTimeout. It must not block: with no slot free the call is refused as
// Unavailable, which exporters retry.
func (g *grpcTransport) tap(ctx context.Context, _ *tap.Info) (context.Context, error) {
	release, ok := g.cfg.Receiver.tryAdmit()
	if !ok {
		return ctx, retryable(codes.Unavailable, "too many OTLP requests being decoded; retry", time.Second)
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	ctx = context.WithValue(ctx, cancelKey{}, cancel)
	var once sync.Once
	return context.WithValue(ctx, releaseKey{}, func() { once.Do(release) }), nil
}

// cancelKey holds, in a call's context, the cancel func of its callTimeout.
type cancelKey struct{}

// HandleRPC gives a call's decoding slot back when it ends, however it ends (the
// Receiver gives it back earlier, once the records are made).
func (g *grpcTransport) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if _, end := s.(*stats.End); end {
		releaseSlot(ctx)
		if cancel, ok := ctx.Value(cancelKey{}).(context.CancelFunc); ok {
			cancel()
		}
	}
}

// releaseSlot gives back the decoding slot ctx holds, if any; again is harmless.
func releaseSlot(ctx context.Context) {
	if release, ok := ctx.Value(releaseKey{}).(func()); ok {
		release()
	}
}

// TagRPC, TagConn and HandleConn complete stats.Handler; they do nothing.
func (g *grpcTransport) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

// TagConn does nothing.
func (g *grpcTransport) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}

// HandleConn does nothing.
func (g *grpcTransport) HandleConn(context.Context, stats.ConnStats) {}
