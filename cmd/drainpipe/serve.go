package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/cloudwatch"
	"github.com/drainpipe/drainpipe/httpd"
	"github.com/drainpipe/drainpipe/journal"
	"github.com/drainpipe/drainpipe/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// serveConfig is everything `drainpipe serve` is told.
type serveConfig struct {
	data, listen, publicURL, natsURL string
	maxBody, journalMaxBytes         int64
	archiveMaxBytes                  int64
	journalMaxAge, retention         time.Duration
	logLevel, logFormat              string
	debugListen                      string
	cloudwatch                       bool
	cwConfig                         cloudwatch.Config
	metrics                          metricsFlags
	syslogListen, syslogTLSListen    string
	tlsCert, tlsKey                  string
	alerts                           *alertFlags
}

func serveFlags(args []string, stderr io.Writer) (serveConfig, error) {
	f := newFlags("serve", stderr)
	listen := ":8080"
	if port := os.Getenv("PORT"); port != "" {
		listen = ":" + port
	}
	var c serveConfig
	data := f.string("data", "./drainpipe-data", "directory for the journal, the archive and the admin token")
	addr := f.string("listen", listen, "HTTP listen address (default :$PORT, else :8080)")
	pub := f.string("public-url", "", "base URL of drain URLs, as Heroku reaches this server (default derived from --listen)")
	nats := f.string("nats", "", "URL of an external NATS JetStream server or cluster (default: embedded)")
	maxBody := f.bytes("max-body", 8<<20, "largest drain request body, after decompression")
	jmax := f.bytes("journal-max-bytes", 4<<30, "journal disk cap; past it drains are answered 503 until sinks catch up")
	jage := f.duration("journal-max-age", 7*24*time.Hour, "journal age cap: older undelivered lines are dropped from the journal (they stay in sinks that have them)")
	ret := f.duration("retention", 30*24*time.Hour, "how long the archive keeps lines (whole days, by the line's time)")
	amax := f.bytes("archive-max-bytes", 0, "archive disk cap: past it the oldest days are deleted (0: no cap)")
	level := f.string("log-level", "info", "log level: debug, info, warn, error")
	format := f.string("log-format", "text", "log format: text or json")
	sl := f.string("syslog-listen", "", "TCP address for Heroku syslog:// drains, e.g. :6514 (off when empty)")
	stl := f.string("syslog-tls-listen", "", "TCP address for Heroku syslog+tls:// drains (needs --tls-cert and --tls-key)")
	cert := f.string("tls-cert", "", "PEM certificate (chain) for --syslog-tls-listen")
	key := f.string("tls-key", "", "PEM private key for --syslog-tls-listen")
	cw := addCloudWatchFlags(f)
	mf := addMetricsFlags(f)
	af := addAlertFlags(f)
	debug := f.string("debug-listen", "", "address for Go's profiler (/debug/pprof/), e.g. 127.0.0.1:6060; off when empty")
	pos, err := f.parse(args)
	if err != nil {
		return c, err
	}
	if len(pos) > 0 {
		return c, usagef("serve takes no arguments, got %q", pos)
	}
	c = serveConfig{data: *data, listen: *addr, publicURL: *pub, natsURL: *nats, maxBody: *maxBody,
		journalMaxBytes: *jmax, journalMaxAge: *jage, retention: *ret, logLevel: *level, logFormat: *format, debugListen: *debug}
	c.metrics, c.alerts = mf, af
	c.archiveMaxBytes = *amax
	if err := af.load(); err != nil {
		return c, err
	}
	c.syslogListen, c.syslogTLSListen, c.tlsCert, c.tlsKey = *sl, *stl, *cert, *key
	if c.cloudwatch = *cw.enabled; c.cloudwatch {
		if c.cwConfig, err = cw.config(c.data); err != nil {
			return c, err
		}
	}
	if c.publicURL == "" {
		c.publicURL = derivePublicURL(c.listen)
	}
	if _, err := drainpipe.DrainURL(c.publicURL, "x", ""); err != nil {
		return c, usagef("--public-url: %v", err)
	}
	return c, nil
}

// derivePublicURL makes a base URL from the listen address: the machine's host
// name when the address names no host. Heroku needs a public HTTPS URL: set
// --public-url to the one in front of this server.
func derivePublicURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		} else {
			host = "localhost"
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level: want debug, info, warn or error, not %q", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format: want text or json, not %q", format)
}

func serve(ctx context.Context, args []string, _, stderr io.Writer) error {
	c, err := serveFlags(args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, c.logLevel, c.logFormat)
	if err != nil {
		return err
	}
	// Every file drainpipe and its stores create is 0600, every directory 0700:
	// the storage engines create theirs with the process umask.
	syscall.Umask(0o077)
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if c.debugListen != "" {
		go servePprof(c.debugListen, log)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	sinkNames := []string{"archive"}
	if c.cloudwatch {
		sinkNames = append(sinkNames, "cloudwatch")
	}
	if *c.metrics.enabled {
		sinkNames = append(sinkNames, "metrics")
	}
	j, err := journal.Open(ctx, journal.Config{
		Dir: filepath.Join(c.data, "journal"), URL: c.natsURL, MaxBytes: c.journalMaxBytes,
		MaxAge: c.journalMaxAge, Sinks: sinkNames, Logger: log.With("part", "journal"), Registerer: reg,
	})
	if err != nil {
		return fmt.Errorf("open journal: %w", err)
	}
	defer j.Close()
	ds, err := j.Drains(ctx)
	if err != nil {
		return err
	}
	defer ds.Close()
	tokenHash, err := adminToken(ctx, c.data, ds, log)
	if err != nil {
		return err
	}
	arc, err := archive.Open(ctx, archive.Config{Dir: filepath.Join(c.data, "archive"), Import: filepath.Join(c.data, "archive.db"),
		Retention: c.retention, MaxBytes: c.archiveMaxBytes, Logger: log.With("part", "archive"), Registerer: reg})
	if err != nil {
		return fmt.Errorf("open archive: %w", err)
	}
	defer arc.Close()
	sinks := []drainpipe.Sink{arc}
	reporters := []httpd.StatusReporter{lagStatus{name: arc.Name(), j: j, ds: ds}}
	var emf metrics.EMFWriter
	if c.cloudwatch {
		cw, err := openCloudWatch(ctx, c.cwConfig, ds, log.With("part", "cloudwatch"), reg)
		if err != nil {
			return err
		}
		defer cw.Close()
		sinks = append(sinks, cw)
		reporters = append(reporters, cw)
		emf = cw
	}
	var history httpd.MetricsHistory
	alertSrc := alertSources{j: j, ds: ds, arc: arc}
	if *c.metrics.enabled {
		msink, store, closeStore, err := openMetrics(c.metrics, filepath.Join(c.data, "archive.db"), c.retention, emf, log.With("part", "metrics"), reg)
		if err != nil {
			return err
		}
		defer closeStore()
		mctx, stopFlush := context.WithCancel(context.Background())
		flushed := make(chan struct{})
		go func() { msink.Run(mctx); close(flushed) }()
		defer func() { stopFlush(); <-flushed }()
		sinks = append(sinks, msink)
		history = store
		alertSrc.msink, alertSrc.mstore = msink, store
	}
	stopSinks := runSinks(j, sinks, log)
	defer stopSinks()

	stopSyslog, err := startSyslog(c, j, ds, log.With("part", "syslog"), reg)
	if err != nil {
		return err
	}
	defer stopSyslog()
	alerts, stopAlerts, err := startAlerts(ctx, c, alertSrc, log.With("part", "alerts"), reg)
	if err != nil {
		return err
	}
	defer stopAlerts()

	srv := httpd.New(httpd.Config{
		Journal: j, Drains: ds, Archive: arc, Sinks: reporters, Metrics: history, Alerts: alerts, AdminTokenHash: tokenHash, PublicURL: c.publicURL,
		MaxBody: c.maxBody, Logger: log.With("part", "http"), Registerer: reg, Gatherer: reg,
	}, nil)
	return listenAndServe(ctx, c.listen, srv, log)
}

// runSinks delivers the journal to each sink through its own durable consumer,
// until the returned func is called; that func waits for the deliveries to stop.
func runSinks(j *journal.Journal, sinks []drainpipe.Sink, log *slog.Logger) func() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, s := range sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := j.Consume(ctx, s, consumeOptions(s)); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("sink stopped", "sink", s.Name(), "err", err)
			}
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// consumeOptions are how a sink reads the journal. The archive makes its rows
// durable once per Write (see package archive), so it takes more at once.
func consumeOptions(s drainpipe.Sink) journal.ConsumeOptions {
	if s.Name() == "archive" {
		return journal.ConsumeOptions{MaxMessages: archive.DeliveryMessages}
	}
	return journal.ConsumeOptions{}
}

// listenAndServe serves until ctx ends (SIGTERM, SIGINT), then stops accepting,
// lets the requests in flight finish (their batches are journaled and answered),
// and returns within the 10 s a platform gives a process to stop.
func listenAndServe(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("drainpipe serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 7*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("requests still in flight at shutdown", "err", err)
	}
	return nil
}

// adminToken makes sure an admin token exists and returns its hash. The node that
// creates it writes it to <data>/admin-token (0600) for the CLI on this machine;
// only its hash is stored in the shared drain store.
func adminToken(ctx context.Context, data string, ds *journal.Drains, log *slog.Logger) ([]byte, error) {
	path := filepath.Join(data, "admin-token")
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		token := strings.TrimSpace(string(raw))
		stored, _, err := ds.InitAdminToken(ctx, drainpipe.HashSecret(token))
		if err != nil {
			return nil, err
		}
		if string(stored) != string(drainpipe.HashSecret(token)) {
			log.Warn("the admin-token file does not match the admin token this journal was set up with; the file's token will be refused", "file", path)
		}
		return stored, nil
	case errors.Is(err, os.ErrNotExist):
		if stored, err := ds.AdminTokenHash(ctx); err == nil {
			log.Info("the admin token was made by another node; copy its admin-token file here to use the CLI on this machine", "file", path)
			return stored, nil
		}
		buf := make([]byte, 32)
		if _, err := rand.Read(buf); err != nil {
			return nil, fmt.Errorf("admin token: %w", err)
		}
		token := base64.RawURLEncoding.EncodeToString(buf)
		if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("write admin token: %w", err)
		}
		stored, _, err := ds.InitAdminToken(ctx, drainpipe.HashSecret(token))
		if err != nil {
			return nil, err
		}
		log.Info("admin token written", "file", path)
		return stored, nil
	default:
		return nil, fmt.Errorf("read admin token: %w", err)
	}
}
