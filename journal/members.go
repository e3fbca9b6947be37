package journal

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
)

// Members tells a shared journal which nodes use it: their consumers are the ones
// that hold it (the purge keeps what they have not delivered) and the ones that
// may not be deleted (Tidy deletes the rest).
type Members interface {
	// Purging reports whether this node runs the purge and Tidy now: one node of a
	// cluster does, under a lease.
	Purging() bool
	// Members returns the nodes that are not gone for good.
	Members() []Member
}

// Member is one node that uses a shared journal.
type Member struct {
	// Node is the node's name.
	Node string
	// Live reports that the node runs now. The replicas of a node that is not live
	// (a restart, a crash) still hold the journal, until it is three quarters full:
	// past that, room for new batches matters more than a gap in one node's replica.
	Live bool
	// Replicas are the sinks of which the node keeps a full copy (its archive),
	// through ReplicaConsumer.
	Replicas []string
	// Shared are the sinks whose partitions the node delivers with the others,
	// through PartitionConsumer.
	Shared []string
}

// consumerSets are the consumers a shared journal expects.
type consumerSets struct {
	// required must all exist before anything is purged: the partitions of every
	// shared sink some node runs, and the replicas of the live nodes.
	required map[string]bool
	// holding hold the journal: required, and the replicas of nodes that are not live
	// while the journal is not pressed for room.
	holding map[string]bool
}

func (j *Journal) expected(members []Member, pressed bool) consumerSets {
	sets := consumerSets{required: map[string]bool{}, holding: map[string]bool{}}
	for _, m := range members {
		for _, r := range m.Replicas {
			name := j.ReplicaConsumer(r, m.Node)
			switch {
			case m.Live:
				sets.required[name], sets.holding[name] = true, true
			case !pressed:
				sets.holding[name] = true
			}
		}
		for _, s := range m.Shared {
			for p := range j.parts {
				name := PartitionConsumer(s, p)
				sets.required[name], sets.holding[name] = true, true
			}
		}
	}
	return sets
}

// Tidy deletes the durable consumers no member of a shared journal runs: the
// replicas of nodes gone for good (Members no longer lists them), and the
// partitions of sinks no node runs any more. Only the node that purges tidies.
func (j *Journal) Tidy(ctx context.Context) error {
	if j.cfg.Members == nil || !j.cfg.Members.Purging() {
		return nil
	}
	members := j.cfg.Members.Members()
	if !slices.ContainsFunc(members, func(m Member) bool { return m.Live }) {
		return nil // a registry not read yet, or damaged: never take it for "nobody"
	}
	sets := j.expected(members, false)
	list := j.stream.ListConsumers(ctx)
	var stale []string
	for ci := range list.Info() {
		// Ephemeral consumers (reading the de-duplication keys, a tail) are not cursors.
		if name := ci.Config.Durable; name != "" && !sets.holding[name] {
			stale = append(stale, name)
		}
	}
	if err := list.Err(); err != nil {
		return fmt.Errorf("list consumers: %w", err)
	}
	slices.Sort(stale)
	for _, name := range stale {
		j.log.Warn("deleting a journal cursor no node runs (a node gone for good, or a sink turned off everywhere)", "consumer", name)
		if err := j.stream.DeleteConsumer(ctx, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("delete consumer %s: %w", name, err)
		}
	}
	return nil
}
