// Package journal is drainpipe's durable journal: every accepted batch is appended
// to a NATS JetStream stream, fsynced, and only then acknowledged to its sender; each
// sink reads the stream through a durable consumer with its own cursor.
//
// By default the journal runs an embedded NATS server with JetStream file storage
// under the data directory, with every write fsynced (sync_interval: always). With
// Config.URL it uses an external NATS server or cluster instead; the durability of an
// acknowledged batch is then that server's: configure it with `sync_interval: always`,
// or run a three-node cluster with replicated (R3) streams.
//
// Batches that arrive together are coalesced into one journal message (group commit):
// while one message is being written and fsynced, the next accumulates, so the cost
// of an fsync is shared by every request waiting for it.
package journal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe/internal/backoff"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Stream and subject names in NATS.
const (
	streamName  = "DRAINPIPE_LOGS"
	subject     = "drainpipe.logs"
	keyHeader   = "Drainpipe-Key"
	embeddedMax = 8 << 20 // max_payload of the embedded server
	// defaultMaxMessage is Config.MaxMessageBytes' default: forty 100 KB logplex
	// batches per write. Each message is its own synchronous write, so on a disk
	// whose fsync takes tens of milliseconds smaller messages cap ingest (1 MiB
	// cost more of it at 64 connections, docs/benchmarks.md); a sink holds one at
	// a time.
	defaultMaxMessage = 4 << 20
	// idKey names the journal's identity in the stream's metadata.
	idKey = "drainpipe_journal_id"
)

// Config says where the journal lives and how big it may grow.
type Config struct {
	// Dir holds the embedded server's JetStream files. Unused with URL.
	Dir string
	// URL of an external NATS server or cluster; empty runs the embedded server.
	URL string
	// Replicas of the stream on an external server: 0 picks 3 on a cluster (R3) and
	// 1 on a single server; always 1 when embedded.
	Replicas int
	// MonitorURLs are the external servers' monitoring addresses
	// (http://nats-a:8222): Open reads each one's /varz and warns when one does not
	// fsync every write. A client connection cannot tell.
	MonitorURLs []string
	// MaxBytes caps the journal's disk use: past it, Append fails with
	// drainpipe.ErrJournalFull until the sinks catch up. Default 4 GiB.
	MaxBytes int64
	// MaxAge drops journal messages older than this even if a sink has not
	// delivered them, so a sink that is broken for good cannot fill the disk
	// forever. Default 7 days.
	MaxAge time.Duration
	// DedupWindow is how long a retried batch (same drain and key) is recognised.
	// Default 10 minutes.
	DedupWindow time.Duration
	// Partitions is how many partitions a new stream gets (see PartitionOf); a
	// stream keeps the number it was made with. Default 1.
	Partitions int
	// Shared says that other drainpipe nodes use the same journal (an external
	// NATS server): a retried batch is recognised by the server whichever node it
	// reaches (each keyed batch is its own message, with its key as Nats-Msg-Id),
	// each node keeps its own replica consumers (ReplicaConsumer), and no node
	// deletes a consumer it does not run (see Members).
	Shared bool
	// Members tells a shared journal which nodes use it, for the purge and Tidy;
	// nil purges as one node does, by Sinks.
	Members Members
	// Sinks names every sink consumer this deployment runs. Durable consumers of
	// sinks not listed are deleted at start, so a sink that was turned off does not
	// hold the journal's cursor (and its disk) forever. Nil keeps every consumer.
	Sinks []string
	// CommitDepth is how many group commits may be in flight at once. Default 2.
	CommitDepth int
	// MaxMessageBytes caps one journal message (its batches and their keys'
	// headers); a batch larger than that is split. Group commit gathers up to it,
	// and every sink holds whole messages, so it bounds the memory of a commit in
	// flight and of a sink's delivery. Default 4 MiB; never above the server's
	// max_payload less 64 KiB.
	MaxMessageBytes int
	// PurgeInterval is how often delivered messages are purged. Default 10 s.
	PurgeInterval time.Duration
	// PublishTimeout bounds the wait for the server to acknowledge one group
	// commit. A server that cannot write (a full disk) does not answer at all; the
	// commit then fails with drainpipe.ErrUnavailable. Default 5 s.
	PublishTimeout time.Duration
	// HealthInterval is how often the journal checks that it can write, and
	// mends what it can (see Ready). Default 2 s.
	HealthInterval time.Duration
	// MinFreeBytes is the free space on the embedded journal's disk under which
	// appends are refused (503) until space returns (checked at each Append).
	// It keeps room for what else lives on that disk: the archive's storage engine
	// stops the process when it cannot flush rows it already took, so the journal
	// must stop short of filling the disk. Zero: no reserve (the journal writes
	// until the disk itself is full).
	MinFreeBytes int64
	// Logger receives the journal's logs.
	Logger *slog.Logger
	// Registerer receives the journal's metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// DefaultDedupWindow is how long a retried batch is recognised by default. A
// shared journal keeps every batch at least that long: NATS refuses a stream
// whose age cap is shorter than its de-duplication window.
const DefaultDedupWindow = 10 * time.Minute

func (c *Config) setDefaults() {
	if c.MaxBytes == 0 {
		c.MaxBytes = 4 << 30
	}
	if c.MaxAge == 0 {
		c.MaxAge = 7 * 24 * time.Hour
	}
	if c.DedupWindow == 0 {
		c.DedupWindow = DefaultDedupWindow
	}
	if c.Partitions <= 0 {
		c.Partitions = 1
	}
	if c.CommitDepth == 0 {
		c.CommitDepth = 2
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = defaultMaxMessage
	}
	if c.PurgeInterval == 0 {
		c.PurgeInterval = 10 * time.Second
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = 5 * time.Second
	}
	if c.HealthInterval == 0 {
		c.HealthInterval = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Journal is an open journal. Its methods are safe for concurrent use.
type Journal struct {
	cfg     Config
	log     *slog.Logger
	srv     *server.Server         // nil with an external server
	jsCfg   server.JetStreamConfig // the embedded JetStream's, to restart it with
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  jetstream.Stream
	metrics *metrics
	dedup   *dedup
	health  health
	lost    lostStream
	written written   // when this process wrote its newest messages
	held    heldBytes // what the embedded server's stream holds, for the journal's own cap

	id       string     // the journal's identity, kept in the stream's metadata
	parts    int        // partitions, kept in the stream's metadata
	replicas int        // the stream's replicas
	maxMsg   int        // largest journal message: MaxMessageBytes, within the server's max_payload
	purgeMu  sync.Mutex // held by a purge, and while a sink's cursor is recreated
	reqs     chan *appendReq
	wg       sync.WaitGroup
	stop     chan struct{}
	life     context.Context // ends when the journal closes: bounds background calls
	endLife  context.CancelFunc
	closed   sync.Once
	down     chan struct{} // closed once Close is done
}

// Open starts (or connects to) the NATS server, creates or updates the stream and
// starts the group committer. It recovers the de-duplication keys of the batches
// committed in the last DedupWindow, so a batch retried across a restart is still
// stored once.
func Open(ctx context.Context, cfg Config) (*Journal, error) {
	cfg.setDefaults()
	j := &Journal{cfg: cfg, log: cfg.Logger, stop: make(chan struct{}), down: make(chan struct{})}
	j.life, j.endLife = context.WithCancel(context.Background())
	if err := j.connect(); err != nil {
		return nil, err
	}
	if err := j.settle(ctx, "set up the stream", j.setup); err != nil {
		j.shutdownNATS()
		return nil, err
	}
	if cfg.URL != "" {
		j.checkDurability(ctx)
	}
	j.metrics = newMetrics(cfg.Registerer, j)
	j.dedup = newDedup(cfg.DedupWindow)
	if err := j.settle(ctx, "recover de-duplication keys", j.recoverKeys); err != nil {
		j.shutdownNATS()
		return nil, fmt.Errorf("recover de-duplication keys: %w", err)
	}
	j.reqs = make(chan *appendReq, 1024)
	j.wg.Add(3)
	go j.commitLoop()
	go j.purgeLoop()
	go j.healthLoop()
	return j, nil
}

// settle runs step, and on an external server tries it again for up to 30 s: a
// cluster that just lost a server, or is electing a leader, answers "no
// responders" or times out for a few seconds.
func (j *Journal) settle(ctx context.Context, what string, step func(context.Context) error) error {
	err := step(ctx)
	if j.cfg.URL == "" || err == nil {
		return err
	}
	retry := backoff.Backoff{Min: 250 * time.Millisecond, Max: 5 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	var small *DiskTooSmallError
	for err != nil && time.Now().Before(deadline) && !errors.Is(err, ErrBadStream) && !errors.As(err, &small) {
		j.log.Warn("journal: "+what+" failed; trying again", "err", err)
		if werr := retry.Wait(ctx); werr != nil {
			return werr
		}
		err = step(ctx)
	}
	return err
}

func (j *Journal) connect() error {
	if j.cfg.URL != "" {
		nc, err := nats.Connect(j.cfg.URL, nats.Name("drainpipe"), nats.MaxReconnects(-1))
		if err != nil {
			return fmt.Errorf("connect to nats %s: %w", hideCredentials(j.cfg.URL), err)
		}
		j.nc = nc
		return nil
	}
	opts := &server.Options{
		ServerName:         "drainpipe",
		DontListen:         true,
		JetStream:          true,
		StoreDir:           filepath.Join(j.cfg.Dir),
		SyncAlways:         true,
		MaxPayload:         embeddedMax,
		JetStreamMaxMemory: 64 << 20,
		NoSigs:             true,
		NoLog:              true,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("start embedded nats: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return errors.New("start embedded nats: not ready after 30s")
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv), nats.Name("drainpipe"))
	if err != nil {
		srv.Shutdown()
		return fmt.Errorf("connect to embedded nats: %w", err)
	}
	j.srv, j.nc = srv, nc
	if cfg := srv.JetStreamConfig(); cfg != nil {
		j.jsCfg = *cfg
	}
	return nil
}

// hideCredentials is a list of NATS URLs (comma-separated) for messages: the
// user information of each, a user and password or a token alone, is hidden.
func hideCredentials(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		switch {
		case err != nil:
			parts[i] = "(a URL that does not parse)"
		case u.User != nil:
			u.User = nil
			parts[i] = strings.Replace(u.String(), "://", "://***@", 1)
		}
	}
	return strings.Join(parts, ",")
}

// maxPending bounds the journal messages published and not yet acknowledged:
// a group commit is one message per partition, so CommitDepth commits in flight
// are a few messages; on a shared journal each keyed batch is a message of its
// own, and a commit holds as many as batches waited for it.
func (j *Journal) maxPending() int {
	if j.cfg.Shared {
		return 1024
	}
	return 2 * j.cfg.CommitDepth * max(1, j.cfg.Partitions)
}

func (j *Journal) setup(ctx context.Context) error {
	// Publishes are bounded: a server that cannot write (or went away: a NATS
	// server of the cluster killed) never answers them.
	js, err := jetstream.New(j.nc, jetstream.WithPublishAsyncTimeout(j.cfg.PublishTimeout),
		jetstream.WithPublishAsyncMaxPending(j.maxPending()))
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	j.js = js
	j.maxMsg = min(int(j.nc.MaxPayload())-64<<10, j.cfg.MaxMessageBytes) // room for the subject and a last key
	replicas := j.cfg.Replicas
	switch {
	case j.srv != nil:
		replicas = 1
	case replicas == 0 && j.nc.ConnectedClusterName() != "":
		replicas = 3
	case replicas == 0:
		replicas = 1
	}
	id, parts, existing, err := j.identity(ctx)
	if err != nil {
		return err
	}
	if existing != nil && j.srv == nil {
		replicas = j.adoptShared(existing.Config, replicas)
	}
	// One node de-duplicates in its own memory; nodes sharing a journal leave it to
	// the server, which remembers each keyed batch's Nats-Msg-Id for the window.
	dups := time.Second
	if j.cfg.Shared {
		dups = j.cfg.DedupWindow
	}
	if err := j.checkReservable(); err != nil {
		return fmt.Errorf("create stream (R%d): %w", replicas, err)
	}
	cfg := jetstream.StreamConfig{
		Name:        streamName,
		Description: "drainpipe: accepted log batches, kept until every sink delivered them",
		Subjects:    []string{subject, subject + ".*"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		MaxAge:      j.cfg.MaxAge,
		Replicas:    replicas,
		Duplicates:  dups,
		Metadata:    map[string]string{idKey: id, partsKey: strconv.Itoa(parts)},
	}
	j.streamLimits(&cfg)
	mark := j.held.mark()
	stream, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return fmt.Errorf("create stream (R%d): %w", replicas, j.diskTooSmall(err))
	}
	j.held.observe(stream.CachedInfo(), mark)
	j.stream, j.id, j.parts, j.replicas = stream, id, parts, replicas
	if j.cfg.Shared {
		return nil // consumers of other nodes are Tidy's to judge, with Members
	}
	return j.deleteUnknownConsumers(ctx)
}

// identity returns the identity and the partitions of the existing stream, with
// its info, or new ones (and nil) for a stream about to be created. A stream made by a drainpipe older
// than identities gets a new one; sinks then see a journal they do not know and
// start from its beginning, which is what its sequences (their only position so
// far) already said. A stream made before partitions takes Config.Partitions:
// its messages are all on partition 0's subject.
func (j *Journal) identity(ctx context.Context) (string, int, *jetstream.StreamInfo, error) {
	parts := j.cfg.Partitions
	stream, err := j.js.Stream(ctx, streamName)
	switch {
	case err == nil:
		info := stream.CachedInfo()
		meta := info.Config.Metadata
		n, had, err := streamParts(meta)
		if err != nil {
			return "", 0, nil, err
		}
		if had {
			if n != parts && parts > 1 {
				j.log.Warn("the journal keeps the partitions it was made with", "partitions", n, "asked", parts)
			}
			parts = n
		}
		if id := meta[idKey]; id != "" {
			return id, parts, info, nil
		}
		info = nil // made before identities: written again as new
	case !errors.Is(err, jetstream.ErrStreamNotFound):
		return "", 0, nil, fmt.Errorf("stream info: %w", err)
	}
	buf := make([]byte, 16)
	if _, err := rand.Read(buf); err != nil {
		return "", 0, nil, fmt.Errorf("journal identity: %w", err)
	}
	id := hex.EncodeToString(buf)
	j.log.Info("new journal: sinks start from its beginning", "journal", id, "partitions", parts)
	return id, parts, nil, nil
}

// adoptShared makes this node keep the settings every node of an existing
// journal on an external NATS shares (its replicas, byte cap and age cap)
// rather than write its own over them: one node started with other flags must
// not lower the cluster's redundancy, or shrink its journal under the other
// nodes. A difference is logged; the settings change with the NATS CLI, for all
// nodes at once. It returns the replicas to use.
func (j *Journal) adoptShared(have jetstream.StreamConfig, replicas int) int {
	const how = "change it for every node with `nats stream edit " + streamName + "`"
	if have.Replicas != replicas {
		j.log.Warn("the journal keeps the replicas it has, which every node shares; this node asked for others: "+how,
			"replicas", have.Replicas, "asked", replicas)
	}
	if have.MaxBytes > 0 && have.MaxBytes != j.cfg.MaxBytes {
		j.log.Warn("the journal keeps the byte cap it has, which every node shares; this node's --journal-max-bytes differs: "+how,
			"max_bytes", have.MaxBytes, "asked", j.cfg.MaxBytes)
		j.cfg.MaxBytes = have.MaxBytes
	}
	if have.MaxAge > 0 && have.MaxAge != j.cfg.MaxAge {
		j.log.Warn("the journal keeps the age cap it has, which every node shares; this node's --journal-max-age differs: "+how,
			"max_age", have.MaxAge, "asked", j.cfg.MaxAge)
		j.cfg.MaxAge = have.MaxAge
	}
	return have.Replicas
}

// ID is the journal's identity: it stays the same for the life of the stream and is
// new when the stream is (see drainpipe.Entry.Journal).
func (j *Journal) ID() string { return j.id }

// deleteUnknownConsumers drops the durable consumers of sinks this deployment no
// longer runs, so their cursors do not keep the journal from being purged.
func (j *Journal) deleteUnknownConsumers(ctx context.Context) error {
	if j.cfg.Sinks == nil {
		return nil
	}
	known := make(map[string]bool, len(j.cfg.Sinks))
	for _, s := range j.cfg.Sinks {
		known[s] = true
	}
	names := j.stream.ConsumerNames(ctx)
	var stale []string
	for name := range names.Name() {
		if !known[name] {
			stale = append(stale, name)
		}
	}
	if err := names.Err(); err != nil {
		return fmt.Errorf("list consumers: %w", err)
	}
	for _, name := range stale {
		// An ephemeral consumer (a reader of the last process, its keys' read-back
		// or a tail) outlives a kill until the server drops it: no sink's, nothing
		// to say about.
		if c, err := j.stream.Consumer(ctx, name); err == nil && c.CachedInfo().Config.Durable == "" {
			j.log.Debug("deleting an ephemeral journal consumer of an earlier process", "consumer", name)
		} else {
			j.log.Warn("deleting the journal cursor of a sink that is no longer configured", "sink", name)
		}
		if err := j.stream.DeleteConsumer(ctx, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("delete consumer %s: %w", name, err)
		}
	}
	return nil
}

// Replicas is how many servers keep the journal (3 for R3); the drain store and
// the cluster's buckets take the same.
func (j *Journal) Replicas() int { return j.replicas }

// MaxPayload is the engine's largest message, for others that publish to it.
func (j *Journal) MaxPayload() int64 { return j.nc.MaxPayload() }

// Shared reports whether other nodes use this journal (Config.Shared).
func (j *Journal) Shared() bool { return j.cfg.Shared }

// JetStream gives other parts of drainpipe (the drain store) the same engine.
func (j *Journal) JetStream() jetstream.JetStream { return j.js }

// Close stops the committer after the appends in flight are answered (each
// within PublishTimeout), then closes the connection and, when embedded, shuts
// the server down cleanly.
func (j *Journal) Close() error {
	j.closed.Do(func() {
		close(j.stop)
		j.endLife()
		j.wg.Wait()
		j.shutdownNATS()
		close(j.down)
	})
	<-j.down
	return nil
}

// Shutdown is Close within ctx: when ctx ends first it returns ctx's error and
// leaves the rest of the closing to run on (the process may exit meanwhile: every
// acknowledged batch was fsynced when it was acknowledged).
func (j *Journal) Shutdown(ctx context.Context) error {
	go j.Close()
	select {
	case <-j.down:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close journal: %w", ctx.Err())
	}
}

func (j *Journal) shutdownNATS() {
	if j.nc != nil {
		_ = j.nc.FlushTimeout(time.Second)
		j.nc.Close()
	}
	if j.srv != nil {
		j.srv.Shutdown()
		j.srv.WaitForShutdown()
	}
}
