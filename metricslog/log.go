// Package metricslog keeps the metrics' History in JetStream, on the journal's
// engine: the stream DRAINPIPE_METRICS, one subject per partition of the journal
// (drainpipe.metrics.<p>), to which the node that owns a partition publishes what
// it aggregated, and from which every node keeps its Store (metrics.db) as a
// replica, so any node answers for every app.
//
// # Fencing
//
// A node claims a partition by publishing a claim message on its subject,
// conditional on the subject's last sequence being the one it read (JetStream's
// expected-last-subject-sequence): of two nodes that claim at once, one wins.
// Every publish is conditional the same way on the sequence of the claim's own
// previous message, so an owner that lost its partition (its lease expired while
// it could not reach NATS) cannot publish after the next owner claimed it: its
// numbers would be counted twice.
//
// # Positions
//
// Each message says how far into the journal the partition's published
// intervals reach: the last message of a publish carries Drainpipe-Through
// (journal identity and sequence), every message Drainpipe-Resume (the last
// complete publish's). A claim reads the last message and resumes after what it
// says. A publish too big for one message is sent in parts (Drainpipe-Part i/n);
// a replica applies the parts together once the last arrives, and drops a publish
// left unfinished by a crash: its owner's next publish, or the next owner,
// covers its entries again.
package metricslog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe/metrics"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	streamName    = "DRAINPIPE_METRICS"
	subjectPrefix = "drainpipe.metrics."
	idKey         = "drainpipe_history_id"

	hThrough = "Drainpipe-Through" // on the last message of a publish, and on a claim
	hResume  = "Drainpipe-Resume"  // on every message: the last complete publish's position
	hPart    = "Drainpipe-Part"    // "i/n"
	hGroup   = "Drainpipe-Publish" // the publish a message belongs to
	hOwner   = "Drainpipe-Owner"   // the claim that wrote the message
)

// ErrFenced reports a publish refused because another node claimed the partition.
var ErrFenced = errors.New("another node claimed the partition")

// Config says where the log lives and how long it keeps intervals.
type Config struct {
	// JetStream is the engine: the journal's.
	JetStream jetstream.JetStream
	// MaxPayload is the engine's largest message (nats.Conn.MaxPayload).
	MaxPayload int64
	// Replicas of the stream: the journal's.
	Replicas int
	// MaxAge is how long the log keeps intervals: a node that starts with an empty
	// store gets this much history from it. Default 30 days.
	MaxAge time.Duration
	// MaxBytes caps the log; past it, the oldest intervals go. Default 1 GiB.
	MaxBytes int64
	// Node names this node in its claims.
	Node string
	// Logger receives the log's logs.
	Logger *slog.Logger
}

// Log is the metrics' History in JetStream.
type Log struct {
	cfg    Config
	js     jetstream.JetStream
	stream jetstream.Stream
	id     string
	maxMsg int
	log    *slog.Logger
}

var _ metrics.History = (*Log)(nil)

// Open creates or updates the stream.
func Open(ctx context.Context, cfg Config) (*Log, error) {
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 30 * 24 * time.Hour
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 1 << 30
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Log{cfg: cfg, js: cfg.JetStream, log: cfg.Logger, maxMsg: int(cfg.MaxPayload) - 64<<10}
	if l.maxMsg < 64<<10 {
		l.maxMsg = 64 << 10
	}
	id := newToken()
	if s, err := l.js.Stream(ctx, streamName); err == nil && s.CachedInfo().Config.Metadata[idKey] != "" {
		id = s.CachedInfo().Config.Metadata[idKey]
	}
	stream, err := l.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        streamName,
		Description: "drainpipe: metric intervals, published by the owner of each partition, replicated into every node's metrics.db",
		Subjects:    []string{subjectPrefix + "*"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      cfg.MaxAge,
		MaxBytes:    cfg.MaxBytes,
		Replicas:    cfg.Replicas,
		Metadata:    map[string]string{idKey: id},
	})
	if err != nil {
		return nil, fmt.Errorf("metrics log: %w", err)
	}
	l.stream, l.id = stream, id
	return l, nil
}

func newToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

func subjectOf(part int) string { return subjectPrefix + strconv.Itoa(part) }

// Claim makes this node the publisher of part.
func (l *Log) Claim(ctx context.Context, part int) (metrics.Claim, error) {
	subj := subjectOf(part)
	token := l.cfg.Node + "/" + newToken()
	for {
		var last uint64
		var resume metrics.Position
		m, err := l.stream.GetLastMsgForSubject(ctx, subj)
		switch {
		case err == nil:
			last, resume = m.Sequence, resumeOf(m.Header)
		case !errors.Is(err, jetstream.ErrMsgNotFound):
			return metrics.Claim{}, fmt.Errorf("read partition %d: %w", part, err)
		}
		msg := nats.NewMsg(subj)
		msg.Header.Set(hOwner, token)
		msg.Header.Set(hThrough, formatPos(resume))
		msg.Header.Set(hResume, formatPos(resume))
		ack, err := l.js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(last))
		if wrongLast(err) {
			continue // another node wrote in between: read again
		}
		if err != nil {
			return metrics.Claim{}, fmt.Errorf("claim partition %d: %w", part, err)
		}
		return metrics.Claim{Part: part, Through: resume, Fence: ack.Sequence, Token: token}, nil
	}
}

// Publish publishes ivs for c's partition, through the journal position through.
func (l *Log) Publish(ctx context.Context, c metrics.Claim, through metrics.Position, ivs []metrics.Interval) (metrics.Claim, error) {
	chunks := l.chunks(ivs)
	fence, err := l.publish(ctx, c, through, chunks, c.Fence)
	if errors.Is(err, ErrFenced) {
		// Maybe our own last publish went through and only its answer was lost:
		// then the partition's last message is ours, and we may carry on after it.
		m, gerr := l.stream.GetLastMsgForSubject(ctx, subjectOf(c.Part))
		if gerr != nil || m.Header.Get(hOwner) != c.Token {
			return c, err
		}
		fence, err = l.publish(ctx, c, through, chunks, m.Sequence)
	}
	if err != nil {
		return c, err
	}
	return metrics.Claim{Part: c.Part, Through: through, Fence: fence, Token: c.Token}, nil
}

func (l *Log) publish(ctx context.Context, c metrics.Claim, through metrics.Position, chunks [][]byte, fence uint64) (uint64, error) {
	group := newToken()
	for i, data := range chunks {
		msg := nats.NewMsg(subjectOf(c.Part))
		msg.Data = data
		msg.Header.Set(hOwner, c.Token)
		msg.Header.Set(hGroup, group)
		msg.Header.Set(hPart, fmt.Sprintf("%d/%d", i+1, len(chunks)))
		msg.Header.Set(hResume, formatPos(c.Through))
		if i == len(chunks)-1 {
			msg.Header.Set(hThrough, formatPos(through))
		}
		ack, err := l.js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(fence))
		if wrongLast(err) {
			return 0, ErrFenced
		}
		if err != nil {
			return 0, fmt.Errorf("publish partition %d: %w", c.Part, err)
		}
		fence = ack.Sequence
	}
	return fence, nil
}

// chunks encodes ivs into messages that fit the engine, at least one.
func (l *Log) chunks(ivs []metrics.Interval) [][]byte {
	var out [][]byte
	start := 0
	for start < len(ivs) || len(out) == 0 {
		end := len(ivs)
		data := metrics.EncodeIntervals(ivs[start:end])
		for len(data) > l.maxMsg && end-start > 1 {
			end = start + (end-start)/2
			data = metrics.EncodeIntervals(ivs[start:end])
		}
		out = append(out, data)
		start = end
	}
	return out
}

func wrongLast(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// formatPos writes a journal position as "<journal>/<seq>".
func formatPos(p metrics.Position) string { return p.Journal + "/" + strconv.FormatUint(p.Seq, 10) }

// parsePos reads what formatPos wrote; anything else is the journal's beginning.
func parsePos(s string) metrics.Position {
	j, seq, ok := strings.Cut(s, "/")
	n, err := strconv.ParseUint(seq, 10, 64)
	if !ok || err != nil {
		return metrics.Position{}
	}
	return metrics.Position{Journal: j, Seq: n}
}

// resumeOf is where a claim resumes after a partition's last message: its
// Through when it ends a publish (or is a claim), else its Resume.
func resumeOf(h nats.Header) metrics.Position {
	if t := h.Get(hThrough); t != "" {
		return parsePos(t)
	}
	return parsePos(h.Get(hResume))
}
