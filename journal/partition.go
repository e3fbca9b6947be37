package journal

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
)

// partsKey names the number of partitions in the stream's metadata.
const partsKey = "drainpipe_partitions"

// The journal is split into partitions by app, each on a subject of its own:
// partition 0 is drainpipe.logs (the subject of a journal made before partitions,
// so such a journal is partition 0 of itself), partition p > 0 is
// drainpipe.logs.<p>. A partition's lines are delivered in journal order by one
// consumer per shared sink, so one node at a time delivers an app's lines, in
// order; a sink that keeps a full copy (the archive) reads every partition
// through one consumer, in journal order. The number of partitions is fixed when
// the stream is made (its metadata keeps it): changing it would send an app's
// lines through two consumers at once.

// subjectOf is the subject of partition p.
func subjectOf(p int) string {
	if p == 0 {
		return subject
	}
	return subject + "." + strconv.Itoa(p)
}

// Partitions is the number of partitions of the journal.
func (j *Journal) Partitions() int { return j.parts }

// PartitionOf is the partition that holds app's lines.
func (j *Journal) PartitionOf(app string) int { return partitionOf(app, j.parts) }

func partitionOf(app string, parts int) int {
	if parts <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(app))
	return int(h.Sum32() % uint32(parts))
}

// PartitionConsumer is the name of the durable consumer through which sink
// delivers partition p. Partition 0's is the sink's own name, as it was before
// the journal had partitions, so a journal of one partition keeps its consumers.
func PartitionConsumer(sink string, p int) string {
	if p == 0 {
		return sink
	}
	return fmt.Sprintf("%s-p%d", sink, p)
}

// ReplicaConsumer is the name of the durable consumer through which node keeps a
// full copy for sink (its archive): the sink's name on a journal of one node, the
// sink's and the node's on a shared one.
func (j *Journal) ReplicaConsumer(sink, node string) string {
	if !j.cfg.Shared {
		return sink
	}
	return sink + "-" + node
}

// streamParts reads the number of partitions from a stream's metadata: 1 when it
// has none (a stream made before partitions), and an error for a value that is not
// a positive number.
func streamParts(meta map[string]string) (int, bool, error) {
	v, ok := meta[partsKey]
	if !ok {
		return 1, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPartitions {
		return 0, true, fmt.Errorf("%w: metadata %s=%q: want a number from 1 to %d", ErrBadStream, partsKey, v, maxPartitions)
	}
	return n, true, nil
}

// ErrBadStream reports a journal stream whose settings drainpipe cannot use; trying
// again does not help.
var ErrBadStream = errors.New("journal stream not usable")

// maxPartitions bounds the consumers a shared sink needs (one per partition).
const maxPartitions = 256
