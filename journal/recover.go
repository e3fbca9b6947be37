package journal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// recoverKeys reads the de-duplication keys of the messages committed within the
// window (headers only), so that a batch committed just before a crash, whose 2xx
// never reached logplex, is recognised when logplex retries it after the restart.
// The purge loop keeps delivered messages for the window for exactly this reason.
func (j *Journal) recoverKeys(ctx context.Context) error {
	info, err := j.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream info: %w", err)
	}
	last := info.State.LastSeq
	if info.State.Msgs == 0 {
		return nil
	}
	start := time.Now().Add(-j.cfg.DedupWindow)
	cons, err := j.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartTimePolicy,
		OptStartTime:  &start,
		HeadersOnly:   true,
	})
	if err != nil {
		return fmt.Errorf("ordered consumer: %w", err)
	}
	for {
		batch, err := cons.FetchNoWait(1000)
		if err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		n := 0
		var seq uint64
		for msg := range batch.Messages() {
			n++
			meta, err := msg.Metadata()
			if err != nil {
				return fmt.Errorf("metadata: %w", err)
			}
			seq = meta.Sequence.Stream
			for _, key := range msg.Headers().Values(keyHeader) {
				j.dedup.add(key, meta.Timestamp)
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return fmt.Errorf("fetch: %w", err)
		}
		if n == 0 || seq >= last {
			break
		}
	}
	j.log.Info("journal opened", "messages", info.State.Msgs, "bytes", info.State.Bytes,
		"recovered_keys", j.dedup.size())
	return nil
}
