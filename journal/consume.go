package journal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/internal/backoff"
	"github.com/drainpipe/drainpipe/internal/tick"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ConsumeOptions tune how a sink reads the journal.
type ConsumeOptions struct {
	// MaxMessages is the most journal messages handed to one Write. Default 256:
	// MaxBytes is what bounds a Write under load, and a count that cuts deliveries
	// of small messages first keeps a sink reading near the journal's end (see
	// HeadPace).
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
	// consumer keeps extending it. Default 10 s. A DeferredSink's entries wait for
	// their acknowledgement after Write too: give it more than the sink takes to
	// make them durable.
	AckWait time.Duration
	// Partitioned delivers Partition alone (0 ≤ Partition < Partitions()), through
	// the consumer PartitionConsumer(sink.Name(), Partition). Otherwise every
	// partition is delivered, in journal order.
	Partitioned bool
	Partition   int
	// Consumer names the durable consumer when it is not the sink's own name (or
	// its partition's): a node's replica (ReplicaConsumer).
	Consumer string
	// OwnFiles says that a DeferredSink's Durable is all it holds, kept in its
	// own files (the archive): a consumer that acknowledged more than that (the
	// files lost, or restored from an older copy) is started again after what
	// the sink holds. A sink whose Durable starts from zero at each start and
	// learns the rest elsewhere (the metrics) leaves it unset.
	OwnFiles bool
	// MaxAckPending bounds the messages delivered and not yet acknowledged. Default
	// 4×MaxMessages, and 16384 for a DeferredSink.
	MaxAckPending int
	// HeadPace is how often at most a sink reads near the journal's end (the
	// last endBytes of it); a first message after a quiet spell still comes at
	// once. A reader there reads the block NATS is writing, which makes the
	// server give up that block's write buffer (8 MiB; 4 MiB on the embedded
	// server, see capped.go) and take a new one at its next write: under load, hundreds of MB a second for the garbage collector
	// and nearly twice the memory (docs/benchmarks.md). Paced, a sink that keeps
	// up reads a few hundred milliseconds behind the writer, in blocks it has
	// finished. Default 250 ms; negative for none.
	HeadPace time.Duration
	// DurablePoll is how long at most a DeferredSink's consumer waits for new
	// messages while entries wait for their acknowledgement, before it asks
	// Durable again: at idle they are acknowledged that soon after the sink
	// made them durable. Zero: the consumer's usual wait (2 s at most).
	DurablePoll time.Duration
}

// defaultHeadPace is ConsumeOptions.HeadPace's default: well under the archive's
// one-second flush interval, and at full ingest (~25 MB/s) about one block.
const defaultHeadPace = 250 * time.Millisecond

// endBytes is how near the journal's end a read is paced: two of the largest
// blocks NATS writes (an external server's 8 MiB; the embedded one's are 4 MiB).
const endBytes = 16 << 20

// setDefaults fills in what o leaves zero; maxMsg is the journal's largest
// message, which one delivery always has room for.
func (o *ConsumeOptions) setDefaults(deferred bool, maxMsg int) {
	if o.MaxMessages == 0 {
		o.MaxMessages = 256
	}
	if o.AckWait == 0 {
		o.AckWait = 10 * time.Second
	}
	if o.MaxAckPending == 0 {
		o.MaxAckPending = 4 * o.MaxMessages
		if deferred {
			o.MaxAckPending = 16384
		}
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = 4 << 20
	}
	if o.HeadPace == 0 {
		o.HeadPace = defaultHeadPace
	}
	// a full message fits: the fetch that skips it is the exception
	o.MaxBytes = max(o.MaxBytes, maxMsg+64<<10)
}

// A DeferredSink takes entries in Write but makes them durable later (the metrics
// publish what they aggregated every few seconds): the journal acknowledges
// entries only as far as Durable says, so that a crash in between delivers them
// again to whoever consumes next.
type DeferredSink interface {
	drainpipe.Sink
	// Durable returns the highest sequence of the named journal up to which every
	// entry Write took is durable.
	Durable(journal string) uint64
}

// Consume delivers the journal to sink through the durable consumer named
// sink.Name(), in journal order, until ctx ends. It resumes where that consumer
// left off, so after a crash or restart the sink sees every entry it has not
// acknowledged (and, in the window between its Write and the acknowledgement,
// some entries again: sinks are told each entry's Seq to skip those).
//
// When the server delivered messages that never arrived (a NATS server of the
// cluster went away mid-delivery), the consumer starts over after its
// acknowledged floor, so that entries still come in order; what the sink already
// took is acknowledged again then, not delivered again (the acknowledgements
// the server lost with its consumer leader would otherwise bring a few seconds of
// entries to the sink twice). A DeferredSink's Consume returns ErrOutOfOrder
// instead, for the sink to give up what it holds first.
func (j *Journal) Consume(ctx context.Context, sink drainpipe.Sink, opt ConsumeOptions) error {
	_, deferred := sink.(DeferredSink)
	var pos position
	for {
		pos.dseq = 0 // a new instance of the consumer counts its deliveries from 1
		err := j.consumeRun(ctx, sink, opt, &pos)
		if !errors.Is(err, ErrOutOfOrder) || deferred || ctx.Err() != nil {
			return err
		}
	}
}

// consumeRun is one run of Consume, over one instance of the consumer, from pos:
// entries at or below pos.seq were taken by the sink in an earlier run.
func (j *Journal) consumeRun(ctx context.Context, sink drainpipe.Sink, opt ConsumeOptions, pos *position) error {
	ds, deferred := sink.(DeferredSink)
	opt.setDefaults(deferred, j.maxMsg)
	name := j.consumerName(sink.Name(), opt)
	var held *uint64
	if deferred && opt.OwnFiles {
		h := ds.Durable(j.id)
		held = &h
	}
	cons, err := j.consumer(ctx, name, opt, deferred, held)
	if err != nil {
		return fmt.Errorf("consumer %s: %w", name, err)
	}
	j.metrics.addSink(name, sink.Name(), cons)
	defer j.metrics.removeSink(name, cons)
	var acks *deferredAcks
	if deferred {
		acks = &deferredAcks{sink: ds, journal: j.id, nc: j.nc}
		defer acks.last()
	}
	for ctx.Err() == nil {
		acks.flush()
		msgs, seqs, gap, err := j.fetch(ctx, cons, opt, pos, !deferred, acks.waitFor(opt.DurablePoll))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			j.log.Warn("journal fetch failed", "consumer", name, "err", err)
			_ = backoff.Sleep(ctx, time.Second)
			continue
		}
		if len(msgs) > 0 {
			if err := j.deliver(ctx, sink, msgs, seqs, opt); err != nil {
				break
			}
			if deferred {
				acks.add(msgs, seqs)
			} else {
				j.ack(ctx, sink.Name(), msgs)
			}
		}
		if gap {
			j.log.Warn("journal messages were delivered but never received (a NATS server went away); the consumer starts again after its last acknowledged entry",
				"consumer", name, "after", pos.seq)
			return fmt.Errorf("consumer %s: %w", name, ErrOutOfOrder)
		}
	}
	return ctx.Err()
}

// ErrOutOfOrder ends a Consume that can no longer deliver in journal order: the
// server delivered messages whose answer never arrived (a server of the cluster
// went away), and would offer them again after newer ones. Consume again: the
// consumer then starts over after its acknowledged floor, in order. A sink that
// holds entries it has not made durable (a DeferredSink) must first give them up.
var ErrOutOfOrder = errors.New("journal delivery out of order")

// position is how far a run of Consume has delivered.
type position struct {
	// seq is the highest journal sequence delivered: anything at or below it is a
	// redelivery of what the sink took (its acknowledgement was lost).
	seq uint64
	// dseq is the consumer's delivery sequence last received: it grows by one with
	// every delivery, so a jump means deliveries that never arrived.
	dseq uint64
	// msgBytes is the average size of the messages received (a moving
	// average), by which the messages waiting tell how near the end they are.
	msgBytes int
	// endRead is when the sink last read near the journal's end (HeadPace);
	// countCapped is set when its last fetch was cut by MaxMessages.
	endRead     time.Time
	countCapped bool
}

// consumerName is the durable consumer that delivers to sink with opt.
func (j *Journal) consumerName(sink string, opt ConsumeOptions) string {
	switch {
	case opt.Consumer != "":
		return opt.Consumer
	case opt.Partitioned:
		return PartitionConsumer(sink, opt.Partition)
	}
	return sink
}

// ack acknowledges msgs once their sink took them, and waits until the server
// confirms each acknowledgement, which on a replicated consumer it does once the
// consumer's replicas hold it. An acknowledgement sent while the consumer has no
// leader (a NATS server of the cluster went away) is dropped without a word; the
// next run of the consumer, here or on the node that takes the partition over,
// would then start at the older floor and bring those entries to a sink that
// cannot skip them (CloudWatch) a second time. Unconfirmed ones are sent again
// (acknowledging twice is harmless) until ctx ends or ackPatience passes; past
// that the server offers them again after AckWait and this run skips them. The
// first attempt is made even when ctx has ended (a node stopping, a lease given
// back): what the sink took is acknowledged before another node goes on.
func (j *Journal) ack(ctx context.Context, sink string, msgs []jetstream.Msg) {
	replies := make([]string, len(msgs))
	for i, m := range msgs {
		replies[i] = m.Reply()
	}
	retry := backoff.Backoff{Min: 200 * time.Millisecond, Max: 2 * time.Second}
	deadline := time.Now().Add(ackPatience)
	for {
		replies = j.confirmAcks(ctx, replies)
		if len(replies) == 0 {
			return
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			j.log.Warn("journal acknowledgements not confirmed; those entries may be delivered again", "sink", sink, "entries", len(replies))
			return
		}
		if retry.Wait(ctx) != nil {
			return
		}
	}
}

// ackPatience is how long ack keeps sending acknowledgements the server has not
// confirmed: long enough for a NATS cluster to elect a consumer's new leader.
const ackPatience = 30 * time.Second

// confirmAcks sends an acknowledgement to each reply subject at once and returns
// those the server did not confirm within 2 s.
func (j *Journal) confirmAcks(ctx context.Context, replies []string) []string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	failed := make([]bool, len(replies))
	var wg sync.WaitGroup
	for i, r := range replies {
		wg.Go(func() {
			_, err := j.nc.RequestWithContext(ctx, r, []byte("+ACK"))
			failed[i] = err != nil
		})
	}
	wg.Wait()
	var out []string
	for i, r := range replies {
		if failed[i] {
			out = append(out, r)
		}
	}
	return out
}

// consumer opens the sink's durable consumer, creating it on first use. Messages
// delivered but not acknowledged before a crash would otherwise be offered again
// only after AckWait, behind newer ones; sinks rely on journal order (they skip a
// sequence at or below the last they applied), so a consumer with such messages is
// recreated to start again, in order, just after its acknowledged floor.
//
// A consumer whose acknowledgement policy changed (a sink that became a
// DeferredSink) is recreated the same way; other changes (its partition's subject
// on a journal that gained partitions, its limits) are made in place.
//
// held is what a sink of ConsumeOptions.OwnFiles holds durably of this journal
// (nil for other sinks). One that holds less than its consumer acknowledged lost
// its files (a data directory lost or restored from an older copy, under the
// same node name): its consumer is recreated just after what it holds, so that
// it takes again what the journal still has rather than go on from where the
// lost files were.
func (j *Journal) consumer(ctx context.Context, name string, opt ConsumeOptions, deferred bool, held *uint64) (jetstream.Consumer, error) {
	cfg := jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "drainpipe sink " + name,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       opt.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: opt.MaxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	if deferred {
		cfg.AckPolicy = jetstream.AckAllPolicy
	}
	if opt.Partitioned && j.parts > 1 {
		cfg.FilterSubject = subjectOf(opt.Partition)
	}
	cons, err := j.stream.Consumer(ctx, name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return j.createConsumer(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	info := cons.CachedInfo()
	lost := held != nil && *held < info.AckFloor.Stream
	if !lost && info.NumAckPending == 0 && info.NumRedelivered == 0 && info.Config.AckPolicy == cfg.AckPolicy {
		return j.updateConsumer(ctx, cons, cfg)
	}
	// The purge loop must not run while this sink has no cursor.
	j.purgeMu.Lock()
	defer j.purgeMu.Unlock()
	if err := j.stream.DeleteConsumer(ctx, name); err != nil {
		return nil, fmt.Errorf("reset: %w", err)
	}
	cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
	cfg.OptStartSeq = info.AckFloor.Stream + 1
	if lost {
		cfg.OptStartSeq = *held + 1
		j.warnLost(ctx, name, *held, info.AckFloor.Stream)
	} else {
		j.log.Info("sink resumes after its last acknowledged entry", "consumer", name, "seq", cfg.OptStartSeq)
	}
	return j.stream.CreateConsumer(ctx, cfg)
}

// warnLost says that a sink holds less than its consumer acknowledged, and what
// of it the journal can no longer give back (purged, or past its age cap).
func (j *Journal) warnLost(ctx context.Context, name string, held, acked uint64) {
	first := uint64(0)
	if info, err := j.stream.Info(ctx); err == nil {
		first = info.State.FirstSeq
	}
	if first > held+1 {
		j.log.Error("THE SINK LOST ENTRIES IT HAD TAKEN (its data directory lost or restored from an older copy): it takes the journal again from what the journal still has; the entries before are no longer in the journal and are missing from this sink",
			"consumer", name, "sink_holds_up_to", held, "acknowledged_up_to", acked, "journal_starts_at", first, "missing_entries", first-held-1)
		return
	}
	j.log.Warn("the sink holds less than it had taken (its data directory lost or restored from an older copy): it takes the journal again after what it holds",
		"consumer", name, "sink_holds_up_to", held, "acknowledged_up_to", acked)
}

// createConsumer creates a consumer; another node creating the same one at the
// same moment (the partitions of a shared sink) is no failure.
func (j *Journal) createConsumer(ctx context.Context, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	cons, err := j.stream.CreateConsumer(ctx, cfg)
	if errors.Is(err, jetstream.ErrConsumerExists) {
		return j.stream.Consumer(ctx, cfg.Durable)
	}
	return cons, err
}

// updateConsumer brings an existing consumer's editable settings to cfg's.
func (j *Journal) updateConsumer(ctx context.Context, cons jetstream.Consumer, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	have := cons.CachedInfo().Config
	if have.FilterSubject == cfg.FilterSubject && have.AckWait == cfg.AckWait && have.MaxAckPending == cfg.MaxAckPending {
		return cons, nil
	}
	have.FilterSubject, have.AckWait, have.MaxAckPending = cfg.FilterSubject, cfg.AckWait, cfg.MaxAckPending
	return j.stream.UpdateConsumer(ctx, have)
}

// fetch returns the next messages in order, with their journal sequences. Messages
// the server offers again that this run already delivered (their ack was lost) are
// acknowledged and left out.
//
// A DeferredSink's consumer acknowledges all at once up to a sequence: a message
// offered again is left alone (ackSkipped false), acknowledged with the others
// once durable.
//
// It stops at a jump in the consumer's delivery sequence and reports the gap: the
// messages before it are returned, none after.
//
// It waits for a message at most maxWait (none: no bound of the caller's).
func (j *Journal) fetch(ctx context.Context, cons jetstream.Consumer, opt ConsumeOptions, pos *position, ackSkipped bool, maxWait time.Duration) ([]jetstream.Msg, []uint64, bool, error) {
	// Waiting longer than AckWait would let the first messages of a fetch be offered
	// again before the fetch returns.
	wait := min(2*time.Second, opt.AckWait/2)
	if maxWait > 0 {
		wait = min(wait, maxWait)
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		wait = max(time.Until(dl), 10*time.Millisecond)
	}
	// Take what is waiting without waiting; only when nothing is, wait for the
	// next message and hand it over at once. A Fetch of MaxMessages would hold
	// the first message until MaxMessages arrived or the wait ended: at idle, a
	// line would reach the sink seconds after its 2xx.
	batch, err := j.fetchWaiting(ctx, cons, opt, wait, pos)
	if err != nil {
		return nil, nil, false, err
	}
	if batch != nil {
		msgs, seqs, gap, err := collect(batch, pos, ackSkipped)
		if len(msgs) > 0 || gap || (err != nil && !errors.Is(err, jetstream.ErrMaxBytesExceeded)) {
			return msgs, seqs, gap, err
		}
	}
	// Nothing came: either nothing waits, or the next message alone is larger
	// than MaxBytes (the server ends such a fetch empty, or with
	// ErrMaxBytesExceeded). Either way the next message comes alone, uncapped.
	if batch, err = cons.Fetch(1, jetstream.FetchMaxWait(wait)); err != nil {
		return nil, nil, false, err
	}
	return collect(batch, pos, ackSkipped)
}

// fetchWaiting fetches the messages waiting, without waiting for more; nil
// when none is. Near the journal's end (within endBytes of it, or at it before
// fetch waits there for the next message) it first lets HeadPace pass since the
// last read there, and takes what came meanwhile: under load a sink then stays
// about endBytes behind the writer, out of the block NATS is writing. A sink
// whose last delivery was cut by MaxMessages is behind by count, and reads at
// once. The client's no-wait fetch takes no byte cap (and every
// delivery has one: see setDefaults), so the consumer is asked how many wait, and exactly that many are asked for: the
// fetch ends when they (or MaxBytes of them) have come.
//
// A replicated consumer (a journal of R3 on a NATS cluster) cannot be asked so:
// it answers a byte-capped pull's end ("batch completed") before the pull's
// last messages reach the client, which then never sees them (TestCluster saw
// every fetch of the archive's replica end so). There the count asked for
// without waiting is cut to what MaxBytes holds of messages of the stream's
// average size: a bound on the memory a Write holds, by the average.
func (j *Journal) fetchWaiting(ctx context.Context, cons jetstream.Consumer, opt ConsumeOptions, wait time.Duration, pos *position) (jetstream.MessageBatch, error) {
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, err
	}
	if info.NumPending*uint64(pos.msgBytes) <= endBytes && !pos.countCapped {
		if d := opt.HeadPace - time.Since(pos.endRead); d > 0 {
			if err := backoff.Sleep(ctx, d); err != nil {
				return nil, err
			}
			if info, err = cons.Info(ctx); err != nil {
				return nil, err
			}
		}
		pos.endRead = time.Now()
	}
	n := int(min(info.NumPending, uint64(opt.MaxMessages)))
	// A delivery of MaxMessages (not cut by MaxBytes) leaves the sink behind by
	// count: the next read goes at once, however few bytes wait.
	pos.countCapped = info.NumPending > uint64(n)
	if n == 0 {
		return nil, nil
	}
	if j.replicas > 1 {
		si, err := j.stream.Info(ctx)
		if err != nil {
			return nil, err
		}
		if si.State.Msgs > 0 {
			avg := max(si.State.Bytes/si.State.Msgs, 1)
			n = int(min(uint64(n), max(uint64(opt.MaxBytes)/avg, 1)))
		}
		return cons.FetchNoWait(n)
	}
	return cons.Fetch(n, jetstream.FetchMaxBytes(opt.MaxBytes), jetstream.FetchMaxWait(wait))
}

// collect reads a fetched batch from pos (see fetch), and reports a gap in the
// consumer's deliveries.
func collect(batch jetstream.MessageBatch, pos *position, ackSkipped bool) ([]jetstream.Msg, []uint64, bool, error) {
	var msgs []jetstream.Msg
	var seqs []uint64
	for msg := range batch.Messages() {
		meta, err := msg.Metadata()
		if err != nil {
			continue // not a JetStream message; never ours
		}
		pos.msgBytes += (len(msg.Data()) - pos.msgBytes) / 8
		if pos.dseq != 0 && meta.Sequence.Consumer > pos.dseq+1 {
			return msgs, seqs, true, nil
		}
		pos.dseq = max(pos.dseq, meta.Sequence.Consumer)
		if meta.Sequence.Stream <= pos.seq {
			if ackSkipped {
				_ = msg.Ack()
			}
			continue
		}
		pos.seq = meta.Sequence.Stream
		msgs = append(msgs, msg)
		seqs = append(seqs, meta.Sequence.Stream)
	}
	// A fetch with a byte cap that got its count ends with "batch completed".
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, nats.ErrTimeout) &&
		!errors.Is(err, jetstream.ErrBatchCompleted) && len(msgs) == 0 {
		return nil, nil, false, err
	}
	return msgs, seqs, false, nil
}

// deliver hands msgs to the sink until it takes them. It returns an error only
// when ctx ends (the messages then go to the next run).
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
