package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/cluster"
	"github.com/drainpipe/drainpipe/drains"
	"github.com/drainpipe/drainpipe/httpd"
	"github.com/drainpipe/drainpipe/internal/backoff"
	"github.com/drainpipe/drainpipe/journal"
	"github.com/drainpipe/drainpipe/metrics"
	"github.com/drainpipe/drainpipe/metricslog"
	"github.com/prometheus/client_golang/prometheus"
)

// sinkSet is the sinks `serve` runs, and what else they serve. The archive is a
// replica each node keeps whole; the other sinks share the journal's partitions
// with the other nodes that run them.
type sinkSet struct {
	archive *archive.Archive
	shared  []drainpipe.Sink // CloudWatch
	metrics *metrics.Sink    // shares the partitions too, through Part
	mlog    *metricslog.Log
	mstore  *metrics.Store
	history httpd.MetricsHistory
	closers []func()
}

// all are the sinks, the archive first.
func (s *sinkSet) all() []drainpipe.Sink {
	out := []drainpipe.Sink{s.archive}
	out = append(out, s.shared...)
	if s.metrics != nil {
		out = append(out, s.metrics)
	}
	return out
}

// names are the sinks this node runs, the archive first, for the cluster's registry.
func (s *sinkSet) names() []string {
	var out []string
	for _, sk := range s.all() {
		out = append(out, sk.Name())
	}
	return out
}

// alertSources are what the alert rules read: the archive, and the metrics when
// they are on.
func (s *sinkSet) alertSources(j *journal.Journal, ds *drains.Store) alertSources {
	return alertSources{j: j, ds: ds, arc: s.archive, msink: s.metrics, mstore: s.mstore}
}

// close stops and closes the sinks, the last opened first.
func (s *sinkSet) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// openSinks opens the archive, and CloudWatch and the metrics when they are on.
// On error, what was opened is in the set for close.
func openSinks(ctx context.Context, c serveConfig, j *journal.Journal, ds *drains.Store, log *slog.Logger, reg *prometheus.Registry) (*sinkSet, error) {
	ss := &sinkSet{}
	arc, err := archive.Open(ctx, archive.Config{Dir: filepath.Join(c.data, "archive"), Import: filepath.Join(c.data, "archive.db"),
		Retention: c.retention, MaxBytes: c.archiveMaxBytes, Logger: log.With("part", "archive"), Registerer: reg})
	if err != nil {
		return ss, fmt.Errorf("open archive: %w", err)
	}
	ss.closers = append(ss.closers, func() { arc.Close() })
	ss.archive = arc
	var emf metrics.EMFWriter
	if c.cloudwatch {
		cw, err := openCloudWatch(ctx, c.cwConfig, ds, log.With("part", "cloudwatch"), reg)
		if err != nil {
			return ss, err
		}
		ss.closers = append(ss.closers, func() { cw.Close() })
		ss.shared, emf = append(ss.shared, cw), cw
	}
	if *c.metrics.enabled {
		mlog, err := metricslog.Open(ctx, metricslog.Config{JetStream: j.JetStream(), MaxPayload: j.MaxPayload(),
			Replicas: j.Replicas(), MaxAge: c.retention, Node: c.cluster.node, Logger: log.With("part", "metrics")})
		if err != nil {
			return ss, err
		}
		msink, store, err := openMetrics(ctx, c.metrics, c.data, c.retention, emf, mlog, log.With("part", "metrics"), reg)
		if err != nil {
			return ss, err
		}
		ss.closers = append(ss.closers, func() { store.Close() })
		ss.metrics, ss.mlog, ss.mstore, ss.history = msink, mlog, store, store
	}
	return ss, nil
}

// runSinks delivers the journal to the sinks until the returned func is called;
// that func waits for the deliveries to stop, and for the leases to be given back,
// or for its own context (the shutdown budget) to end.
// The archive reads every partition through this node's own consumer; CloudWatch
// and the metrics deliver the partitions this node holds the lease of; this node
// keeps its metrics store a replica of the metrics' history, and purges the journal
// while it holds the purge lease.
func runSinks(j *journal.Journal, cl *cluster.Cluster, m *members, ss *sinkSet, log *slog.Logger) func(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	node := cl.Self().Name
	wg.Go(func() {
		// The archive makes the rows of all Writes of up to a second durable at
		// once (a journal.DeferredSink; see package archive).
		consume(ctx, j, ss.archive, journal.ConsumeOptions{Consumer: j.ReplicaConsumer(archiveSink, node),
			MaxMessages: archive.DeliveryMessages, MaxBytes: archive.DeliveryBytes, DurablePoll: archive.DurablePoll, OwnFiles: true}, log)
	})
	for _, s := range ss.shared {
		wg.Go(func() {
			cl.Share(ctx, s.Name(), j.Partitions(), func(ctx context.Context, p int) {
				consume(ctx, j, s, journal.ConsumeOptions{Partitioned: true, Partition: p}, log)
			})
		})
	}
	if ms := ss.metrics; ms != nil {
		wg.Go(func() { shareMetrics(ctx, j, cl, ms, log) })
		wg.Go(func() { _ = ss.mlog.Replicate(ctx, ss.mstore) })
		wg.Go(func() { ms.Run(ctx) })
	}
	wg.Go(func() { housekeep(ctx, cl, m, log) })
	return func(wctx context.Context) error {
		cancel()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
			return nil
		case <-wctx.Done():
			return fmt.Errorf("sinks still writing: %w", wctx.Err())
		}
	}
}

// consume delivers the journal to s with opt until ctx ends, starting again after
// a failure (the engine unreachable for a while).
func consume(ctx context.Context, j *journal.Journal, s drainpipe.Sink, opt journal.ConsumeOptions, log *slog.Logger) {
	retry := backoff.Backoff{Min: 500 * time.Millisecond, Max: 10 * time.Second}
	for {
		err := j.Consume(ctx, s, opt)
		if ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("sink stopped; starting it again", "sink", s.Name(), "partition", opt.Partition, "err", err)
		}
		if retry.Wait(ctx) != nil {
			return
		}
	}
}

// shareMetrics delivers the partitions of the metrics this node holds: each is
// claimed in the metrics' history first (so what its last owner published is not
// counted again), and given back with what it aggregated published.
func shareMetrics(ctx context.Context, j *journal.Journal, cl *cluster.Cluster, ms *metrics.Sink, log *slog.Logger) {
	// Entries wait for their acknowledgement until the next publish.
	opt := journal.ConsumeOptions{AckWait: 2*ms.PublishEvery() + 30*time.Second}
	opt.Partitioned = true
	cl.Share(ctx, ms.Name(), j.Partitions(), func(ctx context.Context, p int) {
		opt := opt
		opt.Partition = p
		retry := backoff.Backoff{Min: 500 * time.Millisecond, Max: 10 * time.Second}
		for ctx.Err() == nil {
			if err := ms.Claim(ctx, p); err != nil {
				log.Warn("cannot claim a metrics partition; trying again", "partition", p, "err", err)
				_ = retry.Wait(ctx)
				continue
			}
			err := j.Consume(ctx, ms.Part(p), opt)
			// What was aggregated, in journal order, is published; a consumer that
			// starts again after its acknowledged floor then resumes after it.
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			ms.Release(rctx, p)
			cancel()
			if ctx.Err() == nil {
				log.Warn("metrics partition stopped; claiming it again", "partition", p, "err", err)
				_ = retry.Wait(ctx)
			}
		}
	})
}
