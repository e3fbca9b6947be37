package otlp

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // exporters may compress with gzip
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/drainpipe/drainpipe"
)

// Authenticator finds the drain a secret belongs to; the drain store implements it
// (the secret's hash is compared in constant time).
type Authenticator interface {
	Authenticate(secret string) (drainpipe.Drain, bool)
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
// OK with a partial success when some records were refused, Unauthenticated,
// InvalidArgument for a message over MaxMessage, ResourceExhausted (journal full)
// and Unavailable (journal slow or down) with a RetryInfo, which exporters retry.
// opts add to the server's options (TLS credentials). Serve it on a listener whose
// connections are capped; GracefulStop it.
func NewGRPCServer(cfg GRPCConfig, opts ...grpc.ServerOption) *grpc.Server {
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = 8 << 20
	}
	if cfg.MaxStreams == 0 {
		cfg.MaxStreams = 64
	}
	s := grpc.NewServer(append([]grpc.ServerOption{
		grpc.MaxRecvMsgSize(cfg.MaxMessage),
		grpc.MaxConcurrentStreams(cfg.MaxStreams),
		grpc.ConnectionTimeout(10 * time.Second),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 2 * time.Minute, Time: time.Minute, Timeout: 20 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}, opts...)...)
	g := &grpcTransport{cfg: cfg}
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

// fail maps a journal failure to a retryable status with a RetryInfo.
func (g *grpcTransport) fail(sig Signal, err error) error {
	code, delay := codes.Unavailable, time.Second
	if errors.Is(err, drainpipe.ErrJournalFull) {
		code, delay = codes.ResourceExhausted, 5*time.Second
	}
	g.cfg.Receiver.Answered("grpc", sig, int(code))
	st, derr := status.New(code, err.Error()).WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(delay)})
	if derr != nil {
		return status.Error(code, err.Error())
	}
	return st.Err()
}
