package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"

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
// --tls-key). The returned func stops the gRPC server: it finishes the exports in
// flight within its context, then cuts the rest (exporters retry them); it can be
// called again, to wait for the first call's end.
func startOTLP(c serveConfig, j otlp.Journal, ds otlp.Authenticator, log *slog.Logger, reg prometheus.Registerer) (*otlp.Receiver, func(context.Context) error, error) {
	rc, err := otlp.NewReceiver(otlp.ReceiverConfig{Journal: j, Logger: log, Registerer: reg})
	if err != nil {
		return nil, nil, err
	}
	if c.otlpGRPCListen == "" {
		return rc, func(context.Context) error { return nil }, nil
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
	log.Info("OTLP/gRPC listening", "addr", ln.Addr().String(), "tls", c.tlsCert != "")
	return rc, gracefulStop(srv, served), nil
}

// gracefulStop returns a func that stops srv gracefully, or at once when its
// context ends first, and waits until srv.Serve (which closes served) returned.
func gracefulStop(srv *grpc.Server, served <-chan struct{}) func(context.Context) error {
	var once sync.Once
	graceful := make(chan struct{})
	return func(ctx context.Context) error {
		once.Do(func() { go func() { srv.GracefulStop(); close(graceful) }() })
		var err error
		select {
		case <-graceful:
		case <-ctx.Done():
			srv.Stop() // ends GracefulStop too
			err = fmt.Errorf("OTLP/gRPC exports still in flight: %w", ctx.Err())
		}
		<-served
		return err
	}
}
