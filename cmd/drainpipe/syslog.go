package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/drains"
	"github.com/drainpipe/drainpipe/journal"
	"github.com/drainpipe/drainpipe/syslog"
	"github.com/prometheus/client_golang/prometheus"
)

// syslogDrains finds a syslog line's drain by the Heroku token in its HOSTNAME.
type syslogDrains struct{ ds *drains.Store }

func (s syslogDrains) Drain(token string) (drainpipe.Drain, bool) { return s.ds.ByHerokuToken(token) }

// journalAppender gives the syslog listener the journal; a retried syslog batch has
// no key, so it is never taken for a duplicate.
type journalAppender struct{ j *journal.Journal }

func (a journalAppender) Append(ctx context.Context, b *drainpipe.Batch) error {
	_, err := a.j.Append(ctx, b)
	return err
}

var (
	_ syslog.Drains   = syslogDrains{}
	_ syslog.Appender = journalAppender{}
)

// startSyslog starts the syslog listeners asked for; the returned func shuts them
// down (draining their connections) within its context, and returns once they
// appended what they had read.
func startSyslog(c serveConfig, j *journal.Journal, ds *drains.Store, log *slog.Logger, reg prometheus.Registerer) (func(context.Context) error, error) {
	var servers []*syslog.Server
	shutdown := func(ctx context.Context) error {
		var wg sync.WaitGroup
		errs := make([]error, len(servers))
		for i, s := range servers {
			wg.Go(func() { errs[i] = s.Shutdown(ctx) })
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	stop := func() { _ = shutdown(context.Background()) }
	listen := func(addr, kind string, tlsCfg *tls.Config) error {
		s, err := syslog.NewServer(syslog.Config{Addr: addr, TLS: tlsCfg, MaxConns: c.syslogMaxConns, Logger: log.With("listener", kind),
			Registerer: prometheus.WrapRegistererWith(prometheus.Labels{"listener": kind}, reg)},
			syslogDrains{ds}, journalAppender{j})
		if err != nil {
			return err
		}
		servers = append(servers, s)
		go func() {
			if err := s.Serve(context.Background()); err != nil && !errors.Is(err, context.Canceled) {
				log.Debug("syslog listener stopped", "listener", kind, "err", err)
			}
		}()
		log.Info("syslog listening", "listener", kind, "addr", s.Addr().String())
		return nil
	}
	if c.syslogListen != "" {
		if err := listen(c.syslogListen, "tcp", nil); err != nil {
			stop()
			return nil, err
		}
	}
	if c.syslogTLSListen != "" {
		if c.tlsCert == "" || c.tlsKey == "" {
			stop()
			return nil, usagef("--syslog-tls-listen needs --tls-cert and --tls-key")
		}
		cert, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
		if err != nil {
			stop()
			return nil, fmt.Errorf("syslog TLS certificate: %w", err)
		}
		if err := listen(c.syslogTLSListen, "tls", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}); err != nil {
			stop()
			return nil, err
		}
	}
	return shutdown, nil
}
