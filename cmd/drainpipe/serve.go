package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive/query"
	"github.com/drainpipe/drainpipe/cloudwatch"
	"github.com/drainpipe/drainpipe/datadir"
	"github.com/drainpipe/drainpipe/drains"
	"github.com/drainpipe/drainpipe/httpd"
	"github.com/drainpipe/drainpipe/internal/bounded"
	"github.com/drainpipe/drainpipe/journal"
	"github.com/drainpipe/drainpipe/otlp"
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
	cluster                          clusterConfig
	otlpGRPCListen                   string
	maxConns, syslogMaxConns         int
	ui                               uiFlags
	alerts                           *alertFlags
	maxBodyInFlight                  int64
	memoryLimit                      memoryLimit
}

func serveFlags(args []string, stderr io.Writer) (serveConfig, error) {
	f := newFlags("serve", stderr)
	var c serveConfig
	data := f.string("data", "./drainpipe-data", "directory for the journal, the archive, the metrics history and the admin token")
	addr := f.string("listen", "", "HTTP listen address (default :$PORT, else :8080)")
	pub := f.string("public-url", "", "base URL of drain URLs, as Heroku reaches this server (default derived from --listen)")
	nats := f.string("nats", "", "URL of an external NATS JetStream server or cluster (default: embedded)")
	maxBody := f.bytes("max-body", 8<<20, "largest drain request body, after decompression")
	jmax := f.bytes("journal-max-bytes", 4<<30, "journal disk cap; past it drains are answered 503 until sinks catch up")
	jage := f.duration("journal-max-age", 7*24*time.Hour, "journal age cap: older undelivered lines are dropped from the journal (they stay in sinks that have them)")
	ret := f.duration("retention", 30*24*time.Hour, "how long the archive keeps lines, e.g. 30d or 2w (whole days, by the time each line is filed under: its own, or when it was received)")
	amax := f.bytes("archive-max-bytes", 0, "archive disk cap: past it the oldest days are deleted (0: no cap)")
	level := f.string("log-level", "info", "log level: debug, info, warn, error")
	format := f.string("log-format", "text", "log format: text or json")
	sl := f.string("syslog-listen", "", "TCP address for Heroku syslog:// drains, e.g. :6514 (off when empty)")
	stl := f.string("syslog-tls-listen", "", "TCP address for Heroku syslog+tls:// drains (needs --tls-cert and --tls-key)")
	cert := f.string("tls-cert", "", "PEM certificate (chain) for --syslog-tls-listen")
	key := f.string("tls-key", "", "PEM private key for --syslog-tls-listen")
	grpcListen := f.string("otlp-grpc-listen", "", "TCP address for OTLP/gRPC (Fir telemetry drains with --transport grpc), e.g. :4317; TLS with --tls-cert and --tls-key (off when empty)")
	cw := addCloudWatchFlags(f)
	mf := addMetricsFlags(f)
	uf := addUIFlags(f)
	af := addAlertFlags(f)
	debug := f.string("debug-listen", "", "address for Go's profiler (/debug/pprof/), e.g. 127.0.0.1:6060; off when empty")
	maxConns := f.int("max-connections", 0, "HTTP connections open at most; at the cap the quietest idle one is closed for a new one (0: 4096, or a quarter of the file limit when lower)")
	syslogMaxConns := f.int("syslog-max-connections", 0, "syslog connections open at most, per listener; at the cap the quietest is closed for a new one (0: 1024, or a quarter of the file limit when lower)")
	cf := addClusterFlags(f)
	inFlight := f.bytes("max-body-in-flight", 0, "bytes of drain request bodies held at once, across connections, and one body more of up to --max-body; past it requests wait up to 2 s, then get 503 + Retry-After (0: a 40th of --memory-limit, between 1 and 32 MiB: 4 MiB at the default)")
	memLimit := f.string("memory-limit", "", "the Go runtime's soft memory limit, e.g. 200MiB; off (or 0) for none (default: GOMEMLIMIT when set, else 160MiB; the binary's own pages come on top)")
	pos, err := f.parse(args)
	if err != nil {
		return c, err
	}
	if len(pos) > 0 {
		return c, usagef("serve takes no arguments, got %q", pos)
	}
	if c.memoryLimit, err = chooseMemoryLimit(*memLimit, gomemlimit()); err != nil {
		return c, err
	}
	if c.maxBodyInFlight = *inFlight; c.maxBodyInFlight == 0 {
		c.maxBodyInFlight = c.memoryLimit.bodiesInFlight()
	}
	if *addr == "" {
		*addr = ":8080"
		if port := os.Getenv("PORT"); port != "" {
			*addr = ":" + port
		}
	}
	c = serveConfig{data: *data, listen: *addr, publicURL: *pub, natsURL: *nats, maxBody: *maxBody,
		journalMaxBytes: *jmax, journalMaxAge: *jage, retention: *ret, logLevel: *level, logFormat: *format, debugListen: *debug,
		memoryLimit: c.memoryLimit, maxBodyInFlight: c.maxBodyInFlight}
	if *nats != "" && *jage < journal.DefaultDedupWindow {
		return c, usagef("--journal-max-age %s: with --nats, at least %s (the journal keeps each batch as long as a retry of it is recognised)", *jage, journal.DefaultDedupWindow)
	}
	if *ret == 0 {
		// The archive would read 0 as its default; say so rather than keep 30 days.
		return c, usagef("--retention: want how long to keep lines, such as 30d or 2w, not 0")
	}
	c.metrics, c.ui, c.alerts = mf, uf, af
	c.archiveMaxBytes = *amax
	c.maxConns, c.syslogMaxConns = *maxConns, *syslogMaxConns
	if err := af.load(); err != nil {
		return c, err
	}
	c.syslogListen, c.syslogTLSListen, c.tlsCert, c.tlsKey = *sl, *stl, *cert, *key
	c.otlpGRPCListen = *grpcListen
	if c.cloudwatch = *cw.enabled; c.cloudwatch {
		if c.cwConfig, err = cw.config(c.data); err != nil {
			return c, err
		}
	} else if name := f.givenWithPrefix("cloudwatch-"); name != "" {
		return c, usagef("--%s is set, but CloudWatch is off: add --cloudwatch (DRAINPIPE_CLOUDWATCH=true), or leave it out", name)
	}
	if c.cluster, err = cf.config(c.natsURL); err != nil {
		return c, err
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
	c.memoryLimit.apply()
	clock := newShutdownClock(ctx, log)
	// Every file drainpipe and its stores create is 0600, every directory 0700:
	// the storage engines create theirs with the process umask.
	syscall.Umask(0o077)
	lock, err := lockData(c.data)
	if err != nil {
		return err
	}
	defer lock.Release()
	if c.debugListen != "" {
		go servePprof(c.debugListen, log)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &members{shared: c.natsURL != ""}
	j, err := openJournal(ctx, c, m, log, reg)
	if err != nil {
		return err
	}
	defer clock.run("journal", journalDone, j.Shutdown)
	ds, err := drains.Open(ctx, drains.Config{JetStream: j.JetStream(), Replicas: j.Replicas(), StateFile: filepath.Join(c.data, "drains.state"),
		Logger: log.With("part", "drains"), Registerer: reg})
	if err != nil {
		return err
	}
	// Stopping the store's watch waits on NATS (up to the client's 5 s when it
	// does not answer): it gets what is left of the budget.
	defer clock.run("drain store", journalDone, func(ctx context.Context) error { return bounded.Run(ctx, ds.Close) })
	tokenHash, err := ds.AdminToken(ctx, filepath.Join(c.data, "admin-token"))
	if err != nil {
		return err
	}
	ss, err := openSinks(ctx, c, j, ds, log, reg)
	defer ss.close()
	if err != nil {
		return err
	}
	cl, err := joinCluster(ctx, c, j, m, ss.names(), nodeReport(j, ss), log.With("part", "cluster"), reg)
	if err != nil {
		return err
	}
	defer leaveCluster(clock, cl)
	if err := keepConsumers(ctx, j, ss, c.cluster.node); err != nil {
		return err
	}
	stopSinks := runSinks(j, cl, m, ss, log)
	defer clock.run("sinks", sinksDone, stopSinks)
	rc, stopIngest, err := startIngest(ctx, clock, c, j, ds, log, reg)
	if err != nil {
		return err
	}
	defer clock.run("ingest", ingestDone, stopIngest)
	alerts, stopAlerts, err := startAlerts(ctx, c, cl, ss.alertSources(j, ds), log.With("part", "alerts"), reg)
	if err != nil {
		return err
	}
	defer clock.run("alerts", sinksDone, stopAlerts)
	return serveHTTP(ctx, clock, c, httpd.Config{
		Journal: j, ParseInPlace: true, Drains: ds, Archive: ss.archive, Reader: query.New(query.Config{Storage: ss.archive}), LogsQL: ss.archive,
		Sinks: statusReporters(j, cl, ss), Metrics: ss.history, Alerts: alerts, AdminTokenHash: tokenHash,
		PublicURL: c.publicURL, MaxBody: c.maxBody, MaxBodyInFlight: c.maxBodyInFlight, OTLP: rc, Logger: log.With("part", "http"), Registerer: reg, Gatherer: reg,
		Ready: j.Ready, Live: j.Lost,
	}, reg, log)
}

// journalMinFree is the free space the journal leaves on its disk: under it,
// drains get 503 until space returns. It is half the archive's own floor
// (archive.DefaultMinFreeBytes, 64 MiB, under which the archive stops taking lines and
// the journal keeps them), so that the archive always has room to flush the
// rows it already took: its engine stops the process when a flush fails.
const journalMinFree = 32 << 20

// lockData makes the data directory and locks it: a second server on it refuses
// to start, naming the first.
func lockData(dir string) (*datadir.Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return datadir.Acquire(dir)
}

// openJournal opens the journal in the data directory, or on --nats, shared with
// the cluster's other nodes (m says who they are).
func openJournal(ctx context.Context, c serveConfig, m *members, log *slog.Logger, reg prometheus.Registerer) (*journal.Journal, error) {
	j, err := journal.Open(ctx, journal.Config{
		Dir: filepath.Join(c.data, "journal"), URL: c.natsURL, MaxBytes: c.journalMaxBytes,
		MaxAge: c.journalMaxAge, Logger: log.With("part", "journal"), Registerer: reg,
		Shared: c.natsURL != "", Partitions: c.cluster.partitions, Replicas: c.cluster.replicas,
		MonitorURLs: c.cluster.monitor, Members: m, MinFreeBytes: journalMinFree,
	})
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", journalAdvice(err))
	}
	return j, nil
}

// journalAdvice says which flag mends a journal that does not fit its disk.
func journalAdvice(err error) error {
	var small *journal.DiskTooSmallError
	switch {
	case !errors.As(err, &small):
		return err
	case small.Fits > 0:
		return fmt.Errorf("%w; lower --journal-max-bytes to %dMiB or less (leave room for the archive on the same disk), or free disk space", err, small.Fits>>20)
	}
	return fmt.Errorf("%w; lower --journal-max-bytes, or give the NATS server more storage", err)
}

// startIngest starts the receivers beside the HTTP server: the syslog listeners and
// the OTLP receiver (with its gRPC server when asked for). From the signal on they
// drain their connections beside the HTTP requests in flight, within the shutdown
// budget's ingest part; the returned func waits for that, within its context.
func startIngest(ctx context.Context, clock *shutdownClock, c serveConfig, j *journal.Journal, ds *drains.Store, log *slog.Logger, reg prometheus.Registerer) (*otlp.Receiver, func(context.Context) error, error) {
	stopSyslog, err := startSyslog(c, j, ds, log.With("part", "syslog"), reg)
	if err != nil {
		return nil, nil, err
	}
	rc, stopOTLP, err := startOTLP(c, j, ds, log.With("part", "otlp"), reg)
	if err != nil {
		clock.run("syslog", ingestDone, stopSyslog)
		return nil, nil, err
	}
	stop := func(ctx context.Context) error {
		var wg sync.WaitGroup
		var errSyslog, errOTLP error
		wg.Go(func() { errSyslog = stopSyslog(ctx) })
		wg.Go(func() { errOTLP = stopOTLP(ctx) })
		wg.Wait()
		return errors.Join(errSyslog, errOTLP)
	}
	context.AfterFunc(ctx, func() { clock.run("ingest", ingestDone, stop) })
	return rc, stop, nil
}

// listenAndServe serves until ctx ends (SIGTERM, SIGINT), then stops accepting,
// lets the requests in flight finish (their batches are journaled and answered),
// and returns within the shutdown budget's ingest part. The start line carries
// attrs (the memory limit and where it came from).
func listenAndServe(ctx context.Context, clock *shutdownClock, lc httpd.ListenConfig, h http.Handler, log *slog.Logger, attrs ...any) error {
	hs, err := httpd.Listen(lc, h)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve() }()
	log.Info("drainpipe serving", append([]any{"addr", hs.Addr().String()}, attrs...)...)
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	sctx, cancel := clock.by(ingestDone)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("requests still in flight at shutdown", "err", err)
	}
	return nil
}
