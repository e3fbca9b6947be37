package metricslog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe/internal/backoff"
	"github.com/drainpipe/drainpipe/metrics"
	"github.com/nats-io/nats.go/jetstream"
)

// Replicate applies the log to store, from the message after the last one store
// applied, until ctx ends. Run one per node.
func (l *Log) Replicate(ctx context.Context, store *metrics.Store) error {
	retry := backoff.Backoff{Min: 100 * time.Millisecond, Max: 10 * time.Second}
	for ctx.Err() == nil {
		err := l.replicate(ctx, store)
		if ctx.Err() != nil {
			break
		}
		l.log.Warn("metrics history replication interrupted; resuming", "err", err)
		_ = retry.Wait(ctx)
	}
	return ctx.Err()
}

func (l *Log) replicate(ctx context.Context, store *metrics.Store) error {
	logID, seq, err := store.Position(ctx)
	if err != nil {
		return err
	}
	start := uint64(1)
	if logID == l.id {
		start = seq + 1
	} else if logID != "" {
		l.log.Info("the metrics log is another one than this store followed: reading it from its start", "was", logID, "now", l.id)
	}
	cons, err := l.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start,
	})
	if err != nil {
		return fmt.Errorf("metrics log consumer: %w", err)
	}
	r := &replica{id: l.id, store: store, log: l.log, pending: map[string]*pending{}}
	for ctx.Err() == nil {
		batch, err := cons.Fetch(256, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		for msg := range batch.Messages() {
			if err := r.apply(ctx, msg); err != nil {
				return err
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("fetch: %w", err)
		}
	}
	return ctx.Err()
}

// replica applies the log's messages to a store, holding the parts of a publish
// until its last one arrives.
type replica struct {
	id      string
	store   *metrics.Store
	log     *slog.Logger
	pending map[string]*pending // by subject: a publish in parts, not yet complete
}

type pending struct {
	group string
	first uint64 // the sequence of its first part
	next  int    // the part expected next
	ivs   []metrics.Interval
}

func (r *replica) apply(ctx context.Context, msg jetstream.Msg) error {
	meta, err := msg.Metadata()
	if err != nil {
		return nil // not a stream message: never ours
	}
	seq, subj, h := meta.Sequence.Stream, msg.Subject(), msg.Headers()
	var ivs []metrics.Interval
	if i, n, ok := parsePart(h.Get(hPart)); ok {
		decoded, err := metrics.DecodeIntervals(msg.Data())
		if err != nil {
			// A message no drainpipe wrote (or a damaged store): skipped, loudly,
			// rather than stopping every later interval.
			r.log.Error("metrics log message does not decode; skipped", "seq", seq, "subject", subj, "err", err)
			decoded, i, n = nil, 1, 1
		}
		p := r.pending[subj]
		if p == nil || p.group != h.Get(hGroup) || p.next != i {
			p = &pending{group: h.Get(hGroup), first: seq, next: 1}
			r.pending[subj] = p
		}
		if i == p.next {
			p.ivs, p.next = append(p.ivs, decoded...), p.next+1
		}
		if i == n && p.next == n+1 {
			ivs = p.ivs
			delete(r.pending, subj)
		}
	} else {
		delete(r.pending, subj) // a claim: whatever was left unfinished never will be
	}
	// The store's position stays before any publish still in parts, so that a
	// restart reads its parts again (publishes applied twice replace their own rows).
	pos := seq
	for _, p := range r.pending {
		pos = min(pos, p.first-1)
	}
	return r.store.Apply(ctx, r.id, pos, ivs)
}

// parsePart reads "i/n" with 1 ≤ i ≤ n.
func parsePart(s string) (int, int, bool) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || i < 1 || i > n {
		return 0, 0, false
	}
	return i, n, true
}
