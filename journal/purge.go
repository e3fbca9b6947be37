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
			if j.cfg.Members != nil && !j.cfg.Members.Purging() {
				continue // another node of the cluster purges
			}
			ctx, cancel := context.WithTimeout(j.life, 30*time.Second)
			if err := j.purge(ctx); err != nil {
				j.log.Warn("journal purge failed", "err", err)
			}
			if err := j.Tidy(ctx); err != nil {
				j.log.Warn("journal tidy failed", "err", err)
			}
			cancel()
		}
	}
}

func (j *Journal) purge(ctx context.Context) error {
	j.purgeMu.Lock()
	defer j.purgeMu.Unlock()
	info, err := j.streamInfo(ctx)
	if err != nil {
		return fmt.Errorf("stream info: %w", err)
	}
	floor, ok, err := j.ackFloor(ctx, info.State.LastSeq, info.State.Bytes > uint64(j.cfg.MaxBytes/4*3))
	if err != nil || !ok {
		return err
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
	if j.srv != nil { // the journal keeps the embedded stream's cap: the room made is room for appends now
		_, _ = j.streamInfo(ctx) // on an error, at the next info
	}
	return nil
}

// ackFloor is the highest sequence every durable consumer that holds the journal
// has acknowledged; ok is false when there are no consumers yet, or when a
// configured sink has none (yet, or for a moment while it is recreated): nothing
// may be purged then. On a shared journal the consumers that hold it are the
// members' (see Members); pressed (the journal is three quarters full) lets go of
// the replicas of nodes that are not live.
//
// A consumer of one partition acknowledges only its partition's messages: its
// floor stays at its last one while the others' grow. One that has nothing
// pending, once settled (settledAfter), has delivered everything up to lastSeq
// (read before the consumers), whatever its floor says.
func (j *Journal) ackFloor(ctx context.Context, lastSeq uint64, pressed bool) (uint64, bool, error) {
	required, holds := map[string]bool{}, func(string) bool { return true }
	for _, s := range j.cfg.Sinks {
		required[s] = true
	}
	if j.cfg.Members != nil {
		sets := j.expected(j.cfg.Members.Members(), pressed)
		required, holds = sets.required, func(name string) bool { return sets.holding[name] }
	}
	floor, found := uint64(math.MaxUint64), map[string]bool{}
	list := j.stream.ListConsumers(ctx)
	for ci := range list.Info() {
		if ci.Config.Durable == "" || !holds(ci.Config.Durable) {
			continue
		}
		found[ci.Config.Durable] = true
		f := ci.AckFloor.Stream
		if ci.NumPending == 0 && ci.NumAckPending == 0 && settled(ci) {
			f = max(f, lastSeq)
		}
		floor = min(floor, f)
	}
	if err := list.Err(); err != nil {
		return 0, false, fmt.Errorf("list consumers: %w", err)
	}
	for s := range required {
		if !found[s] {
			return 0, false, nil
		}
	}
	return floor, len(found) > 0, nil
}

// settledAfter is how old a consumer must be for its "nothing pending" to be
// believed: the server reports 0 until the consumer leads and has counted its
// messages, and a purge that believed a consumer made (or recreated after a
// crash) a moment ago would drop what it has yet to deliver.
const settledAfter = 5 * time.Second

// settled reports whether ci's consumer is old enough, by the server's clock,
// for its pending count to be believed (an info without the server's time, from
// a server older than 2.10, is believed).
func settled(ci *jetstream.ConsumerInfo) bool {
	return ci.TimeStamp.IsZero() || ci.TimeStamp.Sub(ci.Created) >= settledAfter
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
