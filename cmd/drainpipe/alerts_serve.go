package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/alert/jskv"
	"github.com/drainpipe/drainpipe/alert/notify"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/archive/alertsearch"
	"github.com/drainpipe/drainpipe/cluster"
	"github.com/drainpipe/drainpipe/drains"
	"github.com/drainpipe/drainpipe/journal"
	"github.com/drainpipe/drainpipe/metrics"
	"github.com/drainpipe/drainpipe/metrics/alertseries"
	"github.com/prometheus/client_golang/prometheus"
)

// alertFlags are the --alerts-* flags of `drainpipe serve`.
type alertFlags struct {
	file, pagerDuty *string
	grace           *time.Duration
	rules           []alert.Rule // read from file by load
}

func addAlertFlags(f *flags) *alertFlags {
	return &alertFlags{
		file:      f.string("alerts-file", "", "YAML file of alert rules (configuration as code; read-only in the CLI), checked at start"),
		grace:     f.duration("alerts-grace", alert.DefaultGrace, "how long after a window's end, in received time, alert rules wait for its late lines"),
		pagerDuty: f.string("alerts-pagerduty-url", notify.DefaultPagerDutyURL, "PagerDuty Events API v2 endpoint (https://events.eu.pagerduty.com/v2/enqueue for the EU region)"),
	}
}

// load reads and checks the alerts file, if any; every mistake is reported with
// its line.
func (a *alertFlags) load() error {
	if *a.grace < 0 || *a.grace > time.Hour {
		return usagef("--alerts-grace %s: want 0 to 1h", *a.grace)
	}
	if *a.file == "" {
		return nil
	}
	rules, err := alert.ReadFile(*a.file)
	if err != nil {
		return fmt.Errorf("--alerts-file:\n%w", err)
	}
	a.rules = rules
	return nil
}

// journalSlack bounds how long an accepted batch can wait between its received time
// and its journal message: the receiver gives the journal 4 s (httpd's
// AppendTimeout) and answers 503 past that. The alert rules' watermarks allow for it.
const journalSlack = 5 * time.Second

// alertSources are what the alert rules read.
type alertSources struct {
	j      *journal.Journal
	ds     *drains.Store
	arc    *archive.Archive
	msink  *metrics.Sink  // nil with --metrics=false
	mstore *metrics.Store // nil with --metrics=false
}

// startAlerts opens the alert store in the journal's JetStream, loads the rules and
// runs their evaluation, on the one node of the cluster that holds the alerts
// lease, until the returned stop is called; stop waits for the evaluation to end,
// within its context. Every node serves the rules' API.
func startAlerts(ctx context.Context, c serveConfig, cl *cluster.Cluster, src alertSources, log *slog.Logger, reg prometheus.Registerer) (*alert.Service, func(context.Context) error, error) {
	sealer, err := alertSealer(c.data, log)
	if err != nil {
		return nil, nil, err
	}
	opener, err := notify.NewOpener(notify.Options{PagerDutyURL: *c.alerts.pagerDuty})
	if err != nil {
		return nil, nil, usagef("--alerts-pagerduty-url: %v", err)
	}
	store, err := jskv.Open(ctx, src.j.JetStream(), src.j.Replicas())
	if err != nil {
		return nil, nil, err
	}
	// The archive this node reads is its own replica, read through its own
	// consumer; the metrics are read through every partition's.
	archiveLag := func(ctx context.Context) (time.Duration, error) {
		return src.j.Lag(ctx, src.j.ReplicaConsumer(archiveSink, cl.Self().Name))
	}
	cfg := alert.Config{
		Searcher: alertsearch.New(alertsearch.Config{Archive: src.arc, Apps: func() []string { return drainApps(src.ds) },
			Lag: archiveLag, Slack: journalSlack}),
		Store: store, Opener: opener, Sealer: sealer, FileRules: c.alerts.rules, Grace: *c.alerts.grace,
		PublicURL: c.publicURL, MetricInterval: *c.metrics.interval, Logger: log, Registerer: reg,
	}
	if src.msink != nil {
		cfg.Metrics = alertseries.New(alertseries.Config{Store: src.mstore, Sink: src.msink, Lag: partitionsLag(src.j, src.msink.Name()), Slack: journalSlack})
	}
	// The changes other nodes make are watched from before the rules are read,
	// so that none falls in between.
	rctx, cancel := context.WithCancel(context.Background())
	changes, err := store.Changes(rctx)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	svc, err := alert.New(ctx, cfg)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("alerts: %w", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { evaluateAlerts(rctx, cl, svc, log) })
	wg.Go(func() { svc.Follow(rctx, changes) })
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	log.Info("alerts running", "rules", len(svc.List()), "from_file", len(c.alerts.rules), "grace", *c.alerts.grace)
	return svc, func(wctx context.Context) error {
		cancel()
		select {
		case <-done:
			return nil
		case <-wctx.Done():
			return fmt.Errorf("alert rules still evaluating: %w", wctx.Err())
		}
	}, nil
}

func drainApps(ds *drains.Store) []string {
	var apps []string
	for _, d := range ds.List() {
		apps = append(apps, d.App)
	}
	return apps
}

// alertSealer reads the key that seals alert destinations from <data>/alerts.key,
// making it (0600) on first start. Every node of a cluster needs the same file:
// copy it, as the admin token.
func alertSealer(data string, log *slog.Logger) (*alert.Sealer, error) {
	path := filepath.Join(data, "alerts.key")
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		key := make([]byte, alert.KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("alerts key: %w", err)
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("write alerts key: %w", err)
		}
		log.Info("alerts key written: it seals the alert destinations stored in the journal; keep it with the data", "file", path)
		return alert.NewSealer(key)
	case err != nil:
		return nil, fmt.Errorf("read alerts key: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the alerts key can be read by other users: chmod 600 it", "file", path)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(key) != alert.KeySize {
		return nil, fmt.Errorf("alerts key %s: want %d hex-encoded bytes", path, alert.KeySize)
	}
	return alert.NewSealer(key)
}

// evaluateAlerts evaluates the rules while this node holds the cluster's alerts
// lease: one node at a time sends a rule's notifications. The holder first reads
// the rules and states again, as the node that held the lease before left them.
func evaluateAlerts(ctx context.Context, cl *cluster.Cluster, svc *alert.Service, log *slog.Logger) {
	cl.Hold(ctx, "alerts", func(ctx context.Context) {
		if err := svc.Reload(ctx); err != nil {
			log.Error("alert rules not evaluated by this node: cannot read them again", "err", err)
			<-ctx.Done()
			return
		}
		log.Info("this node evaluates the alert rules", "rules", len(svc.List()))
		svc.Run(ctx)
	})
}

// partitionsLag is the lag of a shared sink: the largest of its partitions'.
func partitionsLag(j *journal.Journal, sink string) func(context.Context) (time.Duration, error) {
	return func(ctx context.Context) (time.Duration, error) {
		var most time.Duration
		for p := range j.Partitions() {
			lag, err := j.Lag(ctx, journal.PartitionConsumer(sink, p))
			if err != nil {
				return 0, err
			}
			most = max(most, lag)
		}
		return most, nil
	}
}
