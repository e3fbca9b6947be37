package journal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/internal/backoff"
	"github.com/drainpipe/drainpipe/internal/tick"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ConsumeOptions tune how a sink reads the journal.
type ConsumeOptions struct {
	// MaxMessages is the most journal messages handed to one Write. Default 16.
	MaxMessages int
	// MaxBytes bounds the journal messages handed to one Write, in bytes: with
	// their decoded records, what a sink holds at once (under load group commit
	// makes messages of megabytes, so a count alone does not bound memory). It is
	// never below one message of Config.MaxMessageBytes (and its headers), so a
	// delivery always carries at least one full message; a message larger than
	// that (written by a drainpipe with a larger MaxMessageBytes, or a single huge
	// line) is still delivered, alone. Default 4 MiB.
	MaxBytes int
	// AckWait is how long a delivered message stays with this consumer unacknowledged
	// before the server offers it again (after a crash, say); while Write runs the
	// consumer keeps extending it. Default 10 s.
	AckWait time.Duration
}

func (o *ConsumeOptions) setDefaults() {
	if o.MaxMessages == 0 {
		o.MaxMessages = 16
	}
	if o.AckWait == 0 {
		o.AckWait = 10 * time.Second
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = 4 << 20
	}
}

// Consume delivers the journal to sink through the durable consumer named
// sink.Name(), in journal order, until ctx ends. It resumes where that consumer
// left off, so after a crash or restart the sink sees every entry it has not
// acknowledged (and, in the window between its Write and the acknowledgement,
// some entries again: sinks are told each entry's Seq to skip those).
func (j *Journal) Consume(ctx context.Context, sink drainpipe.Sink, opt ConsumeOptions) error {
	opt.setDefaults()
	opt.MaxBytes = max(opt.MaxBytes, j.maxMsg+64<<10) // a full message fits: the fetch that skips it is the exception
	name := sink.Name()
	cons, err := j.consumer(ctx, name, opt)
	if err != nil {
		return fmt.Errorf("consumer %s: %w", name, err)
	}
	j.metrics.addSink(name, cons)
	var lastSeq uint64 // highest sequence this run delivered: anything at or below it is a redelivery
	for ctx.Err() == nil {
		msgs, seqs, err := j.fetch(ctx, cons, opt, &lastSeq)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			j.log.Warn("journal fetch failed", "sink", name, "err", err)
			_ = backoff.Sleep(ctx, time.Second)
			continue
		}
		if len(msgs) == 0 {
			continue
		}
		if err := j.deliver(ctx, sink, msgs, seqs, opt); err != nil {
			break
		}
	}
	return ctx.Err()
}

// consumer opens the sink's durable consumer, creating it on first use. Messages
// delivered but not acknowledged before a crash would otherwise be offered again
// only after AckWait, behind newer ones; sinks rely on journal order (they skip a
// sequence at or below the last they applied), so a consumer with such messages is
// recreated to start again, in order, just after its acknowledged floor.
func (j *Journal) consumer(ctx context.Context, name string, opt ConsumeOptions) (jetstream.Consumer, error) {
	cfg := jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "drainpipe sink " + name,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       opt.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: 4 * opt.MaxMessages,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	cons, err := j.stream.Consumer(ctx, name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return j.stream.CreateConsumer(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	info := cons.CachedInfo()
	if info.NumAckPending == 0 && info.NumRedelivered == 0 {
		return cons, nil
	}
	// The purge loop must not run while this sink has no cursor.
	j.purgeMu.Lock()
	defer j.purgeMu.Unlock()
	if err := j.stream.DeleteConsumer(ctx, name); err != nil {
		return nil, fmt.Errorf("reset: %w", err)
	}
	cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
	cfg.OptStartSeq = info.AckFloor.Stream + 1
	j.log.Info("sink resumes after its last acknowledged entry", "sink", name, "seq", cfg.OptStartSeq)
	return j.stream.CreateConsumer(ctx, cfg)
}

// fetch returns the next messages in order, with their journal sequences: at most
// MaxMessages of them and MaxBytes in all, or one larger message alone.
func (j *Journal) fetch(ctx context.Context, cons jetstream.Consumer, opt ConsumeOptions, lastSeq *uint64) ([]jetstream.Msg, []uint64, error) {
	// Waiting longer than AckWait would let the first messages of a fetch be offered
	// again before the fetch returns.
	wait := min(2*time.Second, opt.AckWait/2)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		wait = max(time.Until(dl), 10*time.Millisecond)
	}
	// Take what is waiting without waiting; only when nothing is, wait for the
	// next message and hand it over at once. A Fetch of MaxMessages would hold
	// the first message until MaxMessages arrived or the wait ended: at idle, a
	// line would reach the sink seconds after its 2xx.
	batch, err := fetchWaiting(ctx, cons, opt, wait)
	if err != nil {
		return nil, nil, err
	}
	if batch != nil {
		msgs, seqs, err := collect(batch, lastSeq)
		if len(msgs) > 0 || (err != nil && !errors.Is(err, jetstream.ErrMaxBytesExceeded)) {
			return msgs, seqs, err
		}
	}
	// Nothing came: either nothing waits, or the next message alone is larger
	// than MaxBytes (the server ends such a fetch empty, or with
	// ErrMaxBytesExceeded). Either way the next message comes alone, uncapped.
	if batch, err = cons.Fetch(1, jetstream.FetchMaxWait(wait)); err != nil {
		return nil, nil, err
	}
	return collect(batch, lastSeq)
}

// fetchWaiting fetches the messages waiting, at most MaxBytes of them, without
// waiting for more; nil when none is. The client's no-wait fetch takes no byte
// cap, so the consumer is asked how many wait, and exactly that many are asked
// for: the fetch ends when they (or MaxBytes of them) have come.
func fetchWaiting(ctx context.Context, cons jetstream.Consumer, opt ConsumeOptions, wait time.Duration) (jetstream.MessageBatch, error) {
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, err
	}
	n := int(min(info.NumPending, uint64(opt.MaxMessages)))
	if n == 0 {
		return nil, nil
	}
	return cons.Fetch(n, jetstream.FetchMaxBytes(opt.MaxBytes), jetstream.FetchMaxWait(wait))
}

// collect reads a fetched batch. Messages the server offers again that this run
// already delivered (their ack was lost) are acknowledged and left out.
func collect(batch jetstream.MessageBatch, lastSeq *uint64) ([]jetstream.Msg, []uint64, error) {
	var msgs []jetstream.Msg
	var seqs []uint64
	for msg := range batch.Messages() {
		meta, err := msg.Metadata()
		if err != nil {
			continue // not a JetStream message; never ours
		}
		if meta.Sequence.Stream <= *lastSeq {
			_ = msg.Ack()
			continue
		}
		*lastSeq = meta.Sequence.Stream
		msgs = append(msgs, msg)
		seqs = append(seqs, meta.Sequence.Stream)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, nats.ErrTimeout) && len(msgs) == 0 {
		return nil, nil, err
	}
	return msgs, seqs, nil
}

// deliver hands msgs to the sink until it takes them, then acknowledges them. It
// returns an error only when ctx ends (the messages then go to the next run).
func (j *Journal) deliver(ctx context.Context, sink drainpipe.Sink, msgs []jetstream.Msg, seqs []uint64, opt ConsumeOptions) error {
	entries, lines, err := decodeEntries(j.id, msgs, seqs)
	if err != nil {
		// A message that does not decode is never skipped: stop this sink and say so.
		j.log.Error("journal message does not decode; sink stopped", "sink", sink.Name(), "err", err)
		<-ctx.Done()
		return ctx.Err()
	}
	stopHeartbeat := heartbeat(msgs, opt.AckWait/3)
	defer stopHeartbeat()
	retry := backoff.Backoff{Min: 100 * time.Millisecond, Max: 30 * time.Second}
	for {
		err := sink.Write(ctx, entries)
		if err == nil {
			j.metrics.writeSucceeded(sink.Name())
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		j.metrics.writeFailed(sink.Name(), err)
		j.log.Warn("sink write failed; retrying", "sink", sink.Name(), "entries", len(entries), "err", err)
		_ = retry.Wait(ctx)
	}
	stopHeartbeat()
	for _, m := range msgs {
		if err := m.Ack(); err != nil {
			j.log.Warn("journal ack failed; entries will be delivered again", "sink", sink.Name(), "err", err)
		}
	}
	j.metrics.delivered.WithLabelValues(sink.Name()).Add(float64(lines))
	return nil
}

// decodeEntries decodes msgs, whose journal sequences fetch read, into entries.
func decodeEntries(journal string, msgs []jetstream.Msg, seqs []uint64) ([]drainpipe.Entry, int, error) {
	entries := make([]drainpipe.Entry, 0, len(msgs))
	lines := 0
	for i, m := range msgs {
		batches, err := decodeBatches(m.Data())
		if err != nil {
			return nil, 0, fmt.Errorf("message %d: %w", seqs[i], err)
		}
		for _, b := range batches {
			lines += len(b.Records)
		}
		entries = append(entries, drainpipe.Entry{Journal: journal, Seq: seqs[i], Batches: batches})
	}
	return entries, lines, nil
}

// heartbeat tells the server, every interval, that msgs are still being worked on,
// so a slow sink keeps its messages; the returned func stops it (idempotently).
func heartbeat(msgs []jetstream.Msg, interval time.Duration) func() {
	return tick.Every(interval, func() {
		for _, m := range msgs {
			_ = m.InProgress()
		}
	})
}
