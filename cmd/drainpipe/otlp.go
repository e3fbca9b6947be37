package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/netutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/drainpipe/drainpipe/otlp"
)

// maxGRPCConns caps the OTLP/gRPC listener's connections: a Fir app's exporters
// keep one or a few open each.
const maxGRPCConns = 1024

// startOTLP makes the OTLP receiver that the HTTP server and, with
// --otlp-grpc-listen, the gRPC server share (over TLS with --tls-cert and
// --tls-key). The gRPC server stops when ctx ends, finishing the exports in flight
// within 7 s as the HTTP server does, or when the returned func is called, which
// waits for it.
func startOTLP(ctx context.Context, c serveConfig, j otlp.Journal, ds otlp.Authenticator, log *slog.Logger, reg prometheus.Registerer) (*otlp.Receiver, func(), error) {
	rc, err := otlp.NewReceiver(otlp.ReceiverConfig{Journal: j, Logger: log, Registerer: reg})
	if err != nil {
		return nil, nil, err
	}
	if c.otlpGRPCListen == "" {
		return rc, func() {}, nil
	}
	var opts []grpc.ServerOption
	if c.tlsCert != "" && c.tlsKey != "" {
		cert, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
		if err != nil {
			return nil, nil, fmt.Errorf("OTLP/gRPC TLS certificate: %w", err)
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})))
	}
	srv := otlp.NewGRPCServer(otlp.GRPCConfig{Receiver: rc, Drains: ds, MaxMessage: int(c.maxBody)}, opts...)
	ln, err := net.Listen("tcp", c.otlpGRPCListen)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s: %w", c.otlpGRPCListen, err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(netutil.LimitListener(ln, maxGRPCConns)); err != nil {
			log.Warn("OTLP/gRPC server stopped", "err", err)
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		graceful := make(chan struct{})
		go func() { srv.GracefulStop(); close(graceful) }()
		select {
		case <-graceful:
		case <-time.After(7 * time.Second):
			srv.Stop()
		}
		<-served
	}()
	log.Info("OTLP/gRPC listening", "addr", ln.Addr().String(), "tls", c.tlsCert != "")
	return rc, func() { cancel(); <-stopped }, nil
}
