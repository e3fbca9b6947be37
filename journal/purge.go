package journal

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// purgeLoop removes the messages every sink has delivered. It keeps them for the
// de-duplication window while the journal is less than half full (see recoverKeys);
// past that, room for new batches matters more than recognising a retry across a
// restart, and delivered messages go at once.
func (j *Journal) purgeLoop() {
	defer j.wg.Done()
	t := time.NewTicker(j.cfg.PurgeInterval)
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(j.life, 30*time.Second)
			if err := j.purge(ctx); err != nil {
				j.log.Warn("journal purge failed", "err", err)
			}
			cancel()
		}
	}
}

func (j *Journal) purge(ctx context.Context) error {
	j.purgeMu.Lock()
	defer j.purgeMu.Unlock()
	floor, ok, err := j.ackFloor(ctx)
	if err != nil || !ok {
		return err
	}
	info, err := j.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream info: %w", err)
	}
	keepFrom := floor + 1
	if info.State.Bytes < uint64(j.cfg.MaxBytes/2) {
		windowStart, err := j.firstSeqSince(ctx, time.Now().Add(-j.cfg.DedupWindow), info.State.FirstSeq, info.State.LastSeq)
		if err != nil {
			return err
		}
		keepFrom = min(keepFrom, windowStart)
	}
	if keepFrom <= info.State.FirstSeq {
		return nil
	}
	if err := j.stream.Purge(ctx, jetstream.WithPurgeSequence(keepFrom)); err != nil {
		return fmt.Errorf("purge below %d: %w", keepFrom, err)
	}
	return nil
}

// ackFloor is the highest sequence every durable consumer has acknowledged; ok is
// false when there are no consumers yet, or when a configured sink has none (yet,
// or for a moment on another node): nothing may be purged then.
func (j *Journal) ackFloor(ctx context.Context) (uint64, bool, error) {
	floor, found := uint64(math.MaxUint64), map[string]bool{}
	list := j.stream.ListConsumers(ctx)
	for ci := range list.Info() {
		if ci.Config.Durable == "" {
			continue
		}
		found[ci.Config.Durable] = true
		floor = min(floor, ci.AckFloor.Stream)
	}
	if err := list.Err(); err != nil {
		return 0, false, fmt.Errorf("list consumers: %w", err)
	}
	for _, s := range j.cfg.Sinks {
		if !found[s] {
			return 0, false, nil
		}
	}
	return floor, len(found) > 0, nil
}

// firstSeqSince finds, by binary search, the first message stored at or after t.
// Only prefixes of the stream are ever removed, so every sequence in [lo, hi] exists.
func (j *Journal) firstSeqSince(ctx context.Context, t time.Time, lo, hi uint64) (uint64, error) {
	if lo == 0 || hi < lo {
		return lo, nil
	}
	end := hi + 1
	for lo < end {
		mid := lo + (end-lo)/2
		msg, err := j.stream.GetMsg(ctx, mid)
		if err != nil {
			return 0, fmt.Errorf("get message %d: %w", mid, err)
		}
		if msg.Time.Before(t) {
			lo = mid + 1
		} else {
			end = mid
		}
	}
	return lo, nil
}
