package journal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// appendReq is one piece of a batch waiting for the committer.
type appendReq struct {
	data    []byte // encoded batch
	key     string // de-duplication key, "" for none
	records int
	w       *write // the Append this piece belongs to
}

// size is what r adds to a journal message: its data, and its key's header line.
func (r *appendReq) size() int {
	if r.key == "" {
		return len(r.data)
	}
	return len(r.data) + len(keyHeader) + len(r.key) + 4 // ": " and CRLF
}

// commit is a group of requests written as one journal message.
type commit struct {
	reqs   []*appendReq
	future jetstream.PubAckFuture
	err    error
	start  time.Time
}

// write is one Append's pieces on their way to disk. It settles when the last
// piece does, whether or not the Append that made it is still waiting: a request
// whose deadline passed returns at once, and the outcome still decides what a
// retry of the same batch finds (committed, or free to write again).
type write struct {
	j     *Journal
	key   string
	lines int
	done  chan struct{} // closed when every piece has settled

	mu   sync.Mutex
	left int
	err  error // the first failure
}

// settle records the outcome of n pieces.
func (w *write) settle(n int, err error) {
	w.mu.Lock()
	if err != nil && w.err == nil {
		w.err = err
	}
	w.left -= n
	last := w.left == 0
	w.mu.Unlock()
	if !last {
		return
	}
	if w.err == nil {
		w.j.metrics.appendedLines.Add(float64(w.lines))
		w.j.metrics.appendedBatches.Inc()
	}
	if w.key != "" {
		w.j.dedup.settle(w.key, w.err)
	}
	close(w.done)
}

// Append writes b to the journal and returns once it is on disk (fsynced by the
// embedded server, or stored as the external server's configuration promises).
// A batch whose Key was already committed for the same drain within the
// de-duplication window is not written again: Append reports duplicate and nil.
// Errors are drainpipe.ErrJournalFull or drainpipe.ErrUnavailable (both wrapped),
// or ctx's error: Append returns when ctx ends, whatever the journal is doing.
func (j *Journal) Append(ctx context.Context, b *drainpipe.Batch) (duplicate bool, err error) {
	if err := j.health.broken(); err != nil {
		return false, err
	}
	if b.Key == "" {
		return false, j.await(ctx, j.write(ctx, b, ""))
	}
	key := b.Drain + "/" + b.Key
	for {
		owned, wait, committed := j.dedup.claim(key)
		if committed {
			j.metrics.duplicates.Inc()
			return true, nil
		}
		if owned {
			return false, j.await(ctx, j.write(ctx, b, key))
		}
		// Another request is writing the same batch (a retry that overtook a slow
		// first try): its outcome decides ours.
		select {
		case <-wait:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// await waits for w to settle, or for ctx to end.
func (j *Journal) await(ctx context.Context, w *write) error {
	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// write splits b into pieces that fit a journal message and queues them; the
// returned write settles (and, with a key, settles the key) once all have.
func (j *Journal) write(ctx context.Context, b *drainpipe.Batch, key string) *write {
	pieces := j.encode(b)
	w := &write{j: j, key: key, lines: len(b.Records), left: len(pieces), done: make(chan struct{})}
	for i, p := range pieces {
		p.key, p.w = key, w
		select {
		case j.reqs <- p:
			continue
		case <-j.stop:
			w.settle(len(pieces)-i, fmt.Errorf("append: %w: shutting down", drainpipe.ErrUnavailable))
		case <-ctx.Done():
			w.settle(len(pieces)-i, ctx.Err())
		}
		break
	}
	return w
}

// encode returns b as one or more encoded pieces, each under the message limit.
func (j *Journal) encode(b *drainpipe.Batch) []*appendReq {
	data := appendBatch(make([]byte, 0, encodedSize(b)), b)
	if len(data) <= j.maxMsg || len(b.Records) <= 1 {
		return []*appendReq{{data: data, records: len(b.Records)}}
	}
	half := len(b.Records) / 2
	left, right := *b, *b
	left.Records, right.Records = b.Records[:half], b.Records[half:]
	right.Dropped = 0 // counted once, with the first piece
	return append(j.encode(&left), j.encode(&right)...)
}

// commitLoop gathers waiting requests into messages, at most CommitDepth in flight.
func (j *Journal) commitLoop() {
	defer j.wg.Done()
	inflight := make(chan *commit, j.cfg.CommitDepth)
	acked := make(chan struct{})
	go func() {
		defer close(acked)
		for c := range inflight {
			j.finish(c)
		}
	}()
	defer func() {
		close(inflight)
		<-acked
	}()
	var carry *appendReq
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-j.reqs:
			case <-j.stop:
				j.failQueued()
				return
			}
		}
		c := &commit{reqs: []*appendReq{first}, start: time.Now()}
		size := first.size()
	gather:
		for size < j.maxMsg {
			select {
			case r := <-j.reqs:
				if size+r.size() > j.maxMsg {
					carry = r
					break gather
				}
				c.reqs = append(c.reqs, r)
				size += r.size()
			default:
				break gather
			}
		}
		j.publish(c, size)
		inflight <- c // blocks while CommitDepth commits are in flight: the next one grows meanwhile
	}
}

func (j *Journal) publish(c *commit, size int) {
	msg := nats.NewMsg(subject)
	data := make([]byte, 0, size) // size counts the headers too: a little spare room
	for _, r := range c.reqs {
		data = append(data, r.data...)
		if r.key != "" {
			msg.Header.Add(keyHeader, r.key)
		}
	}
	msg.Data = data
	c.future, c.err = j.js.PublishMsgAsync(msg)
}

// finish waits for the server's acknowledgement of c and answers its requests.
func (j *Journal) finish(c *commit) {
	err := c.err
	if err == nil {
		select {
		case <-c.future.Ok():
		case err = <-c.future.Err():
		}
	}
	err = classify(err)
	records := 0
	for _, r := range c.reqs {
		records += r.records
		r.w.settle(1, err)
	}
	j.metrics.observeCommit(len(c.reqs), records, time.Since(c.start), err)
	switch news := j.health.committed(err); {
	case err == nil && news:
		j.log.Info("journal writes again")
	case err != nil && news:
		j.log.Warn("journal append failed; appends are answered 503 until it writes again", "batches", len(c.reqs), "err", err)
	case err != nil:
		j.log.Debug("journal append failed", "batches", len(c.reqs), "err", err)
	}
}

// failQueued answers the requests still queued when the journal closes.
func (j *Journal) failQueued() {
	for {
		select {
		case r := <-j.reqs:
			r.w.settle(1, fmt.Errorf("append: %w: shutting down", drainpipe.ErrUnavailable))
		default:
			return
		}
	}
}

// classify maps a publish error to the errors the receiver answers 503 for.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && isFull(apiErr) {
		return fmt.Errorf("append: %w: %v", drainpipe.ErrJournalFull, err)
	}
	return fmt.Errorf("append: %w: %v", drainpipe.ErrUnavailable, err)
}

// isFull tells the journal's own cap (and a server out of storage) from other faults.
func isFull(e *jetstream.APIError) bool {
	switch e.ErrorCode {
	case 10047, 10023: // storage resources exceeded, insufficient resources
		return true
	case 10077: // store failed: full when the stream's byte cap was reached
		return strings.Contains(e.Description, "maximum bytes")
	}
	return false
}

func isFullErr(err error) bool {
	return errors.Is(err, drainpipe.ErrJournalFull)
}
