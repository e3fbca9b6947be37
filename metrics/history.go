package metrics

import "context"

// History is where a Sink publishes what it aggregated, so that every node's Store
// gets it (a replica of the history, kept by each node), and the ledger of each
// partition's progress: the node that takes a partition of the journal over
// resumes after what its last owner published, and an owner that lost its
// partition can no longer publish. Package metricslog keeps it in JetStream.
type History interface {
	// Claim makes this node the publisher of part, fencing off any earlier one, and
	// returns where the intervals published for part so far end.
	Claim(ctx context.Context, part int) (Claim, error)
	// Publish adds ivs, aggregated from part's journal entries up to through, after
	// c. It fails once another node claimed part since c. It returns the claim to
	// publish after next.
	Publish(ctx context.Context, c Claim, through Position, ivs []Interval) (Claim, error)
}

// Position is a place in the journal: its identity and a sequence number.
type Position struct {
	Journal string `json:"journal"`
	Seq     uint64 `json:"seq"`
}

// covers reports whether p is at or past seq of journal.
func (p Position) covers(journal string, seq uint64) bool {
	return p.Journal == journal && seq <= p.Seq
}

// Claim is a node's right to publish a partition's intervals.
type Claim struct {
	// Part is the partition.
	Part int
	// Through is where the intervals published for the part end: every entry of
	// the part up to it is in them, and none after it.
	Through Position
	// Fence and Token are the History's own: what the next Publish must follow,
	// and what marks this claim's messages.
	Fence uint64
	Token string
}
