package journal

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/drainpipe/drainpipe"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The embedded server's stream has no byte cap of its own: the journal keeps to
// Config.MaxBytes itself. The reason is memory. nats-server sizes a stream's
// blocks from its byte cap (a quarter of it, at most 8 MiB, so 8 MiB for any cap
// above 32 MiB), and holds a block's whole buffer in memory while it writes the
// block and while a sink reads it: the writer's block and those the sinks read
// were 40 MB of the heap at full ingest. A stream without a byte cap but with a
// per-subject message limit gets 4 MiB blocks (nats-server's block size for
// key-value buckets). The limit set is one no subject reaches.
//
// TestEmbeddedBlocks fails if a nats-server release changes that rule. An
// external server keeps the stream's byte cap: its blocks are in its own memory.
const unlimitedPerSubject = math.MaxInt64

// streamLimits sets the stream's caps in cfg: the byte cap, or on the embedded
// server the per-subject limit that picks its smaller blocks.
func (j *Journal) streamLimits(cfg *jetstream.StreamConfig) {
	if j.srv == nil {
		cfg.MaxBytes = j.cfg.MaxBytes
		return
	}
	cfg.MaxBytes, cfg.MaxMsgsPerSubject = -1, unlimitedPerSubject
}

// checkReservable refuses a cap the embedded server could not hold, as the
// server itself did when the stream reserved its byte cap: more than its store
// limit (75% of the disk's free space when it started).
func (j *Journal) checkReservable() error {
	if j.srv == nil {
		return nil
	}
	cfg := j.srv.JetStreamConfig()
	if cfg == nil || j.cfg.MaxBytes <= cfg.MaxStore {
		return nil
	}
	return j.tooSmall(fmt.Errorf("the embedded JetStream may store %s", sizeText(cfg.MaxStore)))
}

// heldBytes counts what the embedded server's stream holds, for the journal's own
// cap: the bytes a stream info reported (purges and MaxAge remove messages, so an
// info replaces the count), plus the messages stored since the info was asked
// for, plus those published and not yet answered. A message stored while an
// info was on its way may be counted twice until the next one: the count errs on
// the side of the cap, never past it.
type heldBytes struct {
	mu sync.Mutex
	// base is the last info's bytes less added when it was asked for, so that
	// base+added is what the stream holds.
	base    int64
	added   int64 // every stored message's bytes, ever
	pending int64
}

// streamInfo asks for the stream's info and takes the stream's size from it.
func (j *Journal) streamInfo(ctx context.Context) (*jetstream.StreamInfo, error) {
	mark := j.held.mark()
	info, err := j.stream.Info(ctx)
	if err != nil {
		return nil, err
	}
	j.held.observe(info, mark)
	return info, nil
}

// mark is what observe needs of the moment an info is asked for.
func (h *heldBytes) mark() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.added
}

// observe takes the stream's size from an info asked for at mark.
func (h *heldBytes) observe(info *jetstream.StreamInfo, mark int64) {
	h.mu.Lock()
	h.base = int64(info.State.Bytes) - mark
	h.mu.Unlock()
}

// reserve counts size bytes about to be published, or reports that they would
// take the journal past limit.
func (h *heldBytes) reserve(size, limit int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.base+h.added+h.pending+size > limit {
		return false
	}
	h.pending += size
	return true
}

// settle moves a reserved publish to the stored bytes, or uncounts it when the
// server did not store it.
func (h *heldBytes) settle(size int64, stored bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pending -= size
	if stored {
		h.added += size
	}
}

// recordOverhead is what nats-server's file store adds to a message's subject,
// headers and data (its record header and checksum), rounded up.
const recordOverhead = 34

// storedSize is about what msg takes in the stream.
func storedSize(msg *nats.Msg) int64 {
	n := len(msg.Subject) + len(msg.Data) + recordOverhead
	if len(msg.Header) > 0 {
		n += len("NATS/1.0\r\n\r\n")
		for k, vs := range msg.Header {
			for _, v := range vs {
				n += len(k) + len(v) + len(": \r\n")
			}
		}
	}
	return int64(n)
}

// errCapReached is what a commit gets that the journal's own cap refuses.
var errCapReached = fmt.Errorf("append: %w: its cap of batches the sinks have not delivered is reached", drainpipe.ErrJournalFull)
