package journal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/internal/backoff"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// appendReq is one piece of a batch waiting for the committer.
type appendReq struct {
	data    []byte // encoded batch
	key     string // de-duplication key, "" for none
	msgID   string // the piece's Nats-Msg-Id on a shared journal, "" for none
	part    int    // the partition of the batch's app
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

// commit is a group of requests written together: one journal message per
// partition, and on a shared journal one per keyed piece (its Nats-Msg-Id is the
// server's de-duplication).
type commit struct {
	reqs  []*appendReq
	msgs  []*commitMsg
	start time.Time
}

// commitMsg is one journal message of a commit.
type commitMsg struct {
	reqs []*appendReq
	// data is the message's data, from getBuf: free once the server answered.
	data   []byte
	future jetstream.PubAckFuture
	err    error
	held   int64 // bytes counted against the journal's own cap (embedded server)
}

// Outcomes of a piece other than "written now".
var (
	// errStored: the server already held the piece (a retry that reached another node).
	errStored = errors.New("already stored")
	// errBusy: another node is writing the same piece right now; try again shortly.
	errBusy = errors.New("being stored by another node")
)

// write is one Append's pieces on their way to disk. It settles when the last
// piece does, whether or not the Append that made it is still waiting: a request
// whose deadline passed returns at once, and the outcome still decides what a
// retry of the same batch finds (committed, or free to write again).
type write struct {
	j      *Journal
	key    string
	lines  int
	pieces int
	done   chan struct{} // closed when every piece has settled

	mu        sync.Mutex
	left      int
	stored    int   // pieces the server already held (a retry that reached another node)
	err       error // the first failure
	abandoned bool  // its Append stopped waiting: nobody tries it again if it ends busy
}

// settle records the outcome of n pieces.
func (w *write) settle(n int, err error) {
	w.mu.Lock()
	switch {
	case errors.Is(err, errStored):
		w.stored += n
	case err != nil && w.err == nil:
		w.err = err
	}
	w.left -= n
	last := w.left == 0
	// A write that ends busy is tried again by its Append, which holds the key
	// meanwhile; one whose Append left frees the key now.
	freeKey := last && w.key != "" && (!errors.Is(w.err, errBusy) || w.abandoned)
	w.mu.Unlock()
	if !last {
		return
	}
	if w.err == nil && w.stored < w.pieces {
		w.j.metrics.appendedLines.Add(float64(w.lines))
		w.j.metrics.appendedBatches.Inc()
	}
	if freeKey {
		w.j.dedup.settle(w.key, w.err)
	}
	close(w.done)
}

// abandon records that w's Append stopped waiting for it.
func (w *write) abandon() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.abandoned = true
	if w.left == 0 && w.key != "" && errors.Is(w.err, errBusy) {
		w.j.dedup.settle(w.key, w.err) // it ended busy just before: its key is free
	}
}

// duplicate reports whether the server already held every piece of a settled w.
func (w *write) duplicate() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err == nil && w.stored == w.pieces
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
	if err := j.Lost(); err != nil {
		// A commit into a stream made again under the same name would succeed
		// and clear the health failure; the batch would be in a journal this
		// process's sinks do not read.
		return false, unavailable(err)
	}
	if err := j.lowOnSpace(); err != nil { // checked at each Append: a fast sender fills a reserve between two health checks
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
			dup, err := j.writeKeyed(ctx, b, key)
			if dup {
				j.metrics.duplicates.Inc()
			}
			return dup, err
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

// writeKeyed writes a keyed batch. On a shared journal another node may be
// writing the same batch at this moment (logplex gave up on it and retried
// elsewhere): the server says so, and the write is tried again until one of them
// settles it.
//
// It reports whether every piece was already stored (a retried batch that the
// server recognised). The key is settled when the last write does.
func (j *Journal) writeKeyed(ctx context.Context, b *drainpipe.Batch, key string) (bool, error) {
	retry := backoff.Backoff{Min: 20 * time.Millisecond, Max: 500 * time.Millisecond}
	for {
		w := j.write(ctx, b, key)
		err := j.await(ctx, w)
		switch {
		case err == nil:
			return w.duplicate(), nil
		case !errors.Is(err, errBusy):
			if ctx.Err() != nil {
				w.abandon()
			}
			return false, err
		}
		if err := retry.Wait(ctx); err != nil {
			j.dedup.settle(key, errBusy) // nobody writes it now: a retry may
			return false, err
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
// returned write settles (and, with a key, settles the key) once all have. On a
// shared journal each keyed piece carries its Nats-Msg-Id.
func (j *Journal) write(ctx context.Context, b *drainpipe.Batch, key string) *write {
	pieces := j.encode(b)
	w := &write{j: j, key: key, lines: len(b.Records), pieces: len(pieces), left: len(pieces), done: make(chan struct{})}
	for i, p := range pieces {
		p.key, p.w = key, w
		if j.cfg.Shared && key != "" {
			p.msgID = key + "/" + strconv.Itoa(i)
		}
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

// encode returns b as one or more encoded pieces, each under the message limit,
// in the partition of b's app.
func (j *Journal) encode(b *drainpipe.Batch) []*appendReq {
	pieces := j.split(b)
	part := j.PartitionOf(b.App)
	for _, p := range pieces {
		p.part = part
	}
	return pieces
}

// split encodes b, halving it until each piece fits a journal message.
func (j *Journal) split(b *drainpipe.Batch) []*appendReq {
	data := appendBatch(getBuf(encodedSize(b)), b)
	if len(data) <= j.maxMsg || len(b.Records) <= 1 {
		return []*appendReq{{data: data, records: len(b.Records)}}
	}
	putBuf(data)
	half := len(b.Records) / 2
	left, right := *b, *b
	left.Records, right.Records = b.Records[:half], b.Records[half:]
	right.Dropped = 0 // counted once, with the first piece
	return append(j.split(&left), j.split(&right)...)
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
		j.publish(c)
		inflight <- c // blocks while CommitDepth commits are in flight: the next one grows meanwhile
	}
}

// publish sends c's messages: the requests of each partition together, except
// that on a shared journal each keyed piece goes alone, with its Nats-Msg-Id.
func (j *Journal) publish(c *commit) {
	byPart := map[int]*commitMsg{}
	for _, r := range c.reqs {
		if r.msgID != "" {
			c.msgs = append(c.msgs, &commitMsg{reqs: []*appendReq{r}})
			continue
		}
		m := byPart[r.part]
		if m == nil {
			m = &commitMsg{}
			byPart[r.part] = m
			c.msgs = append(c.msgs, m)
		}
		m.reqs = append(m.reqs, r)
	}
	for _, m := range c.msgs {
		msg := nats.NewMsg(subjectOf(m.reqs[0].part))
		for _, r := range m.reqs {
			if r.key != "" {
				msg.Header.Add(keyHeader, r.key)
			}
		}
		if id := m.reqs[0].msgID; id != "" {
			msg.Header.Set(jetstream.MsgIDHeader, id)
		}
		m.data = m.join()
		msg.Data = m.data
		if j.srv != nil {
			size := storedSize(msg)
			if !j.held.reserve(size, j.cfg.MaxBytes) {
				m.err = errCapReached
				continue
			}
			m.held = size
		}
		m.future, m.err = j.js.PublishMsgAsync(msg)
	}
}

// join returns the data of m's pieces as one message, in a buffer that finish
// gives back; the pieces' own buffers go back at once (a lone piece is the
// message).
func (m *commitMsg) join() []byte {
	if len(m.reqs) == 1 {
		data := m.reqs[0].data
		m.reqs[0].data = nil
		return data
	}
	n := 0
	for _, r := range m.reqs {
		n += len(r.data)
	}
	data := getBuf(n)
	for _, r := range m.reqs {
		data = append(data, r.data...)
		putBuf(r.data)
		r.data = nil
	}
	return data
}

// finish waits for the server's acknowledgement of c's messages and answers
// their requests.
func (j *Journal) finish(c *commit) {
	records := 0
	var failed error
	for _, m := range c.msgs {
		err := m.err
		var ack *jetstream.PubAck
		if err == nil {
			select {
			case ack = <-m.future.Ok():
			case err = <-m.future.Err():
			}
		}
		// Answered (or never sent): the client holds the data no longer.
		putBuf(m.data)
		m.data = nil
		err = outcome(ack, err)
		if err == nil {
			j.written.add(ack.Sequence, subjectOf(m.reqs[0].part), time.Now())
		}
		j.held.settle(m.held, err == nil) // a duplicate was stored before: not again
		for _, r := range m.reqs {
			records += r.records
			r.w.settle(1, err)
		}
		if err != nil && !errors.Is(err, errStored) && !errors.Is(err, errBusy) && failed == nil {
			failed = err
		}
	}
	j.metrics.observeCommit(len(c.reqs), records, time.Since(c.start), failed)
	switch news := j.health.committed(failed); {
	case failed == nil && news:
		j.log.Info("journal writes again")
	case failed != nil && news:
		j.log.Warn("journal append failed; appends are answered 503 until it writes again", "batches", len(c.reqs), "err", failed)
	case failed != nil:
		j.log.Debug("journal append failed", "batches", len(c.reqs), "err", failed)
	}
}

// outcome is what a message's acknowledgement (or its error) means for its requests.
func outcome(ack *jetstream.PubAck, err error) error {
	if err == nil && ack != nil && ack.Duplicate {
		return errStored
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == duplicateInProcess {
		return errBusy
	}
	return classify(err)
}

// duplicateInProcess is the server's answer to a Nats-Msg-Id being stored now by
// another publish (JSStreamDuplicateMessageConflictErr).
const duplicateInProcess = 10158

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
	switch {
	case errors.Is(err, drainpipe.ErrJournalFull): // the journal's own cap
		return err
	case errors.As(err, &apiErr) && isFull(apiErr):
		return fmt.Errorf("append: %w: %v", drainpipe.ErrJournalFull, err)
	}
	return unavailable(err)
}

// unavailable is what Append answers, retryably, when the journal cannot write
// now for cause.
func unavailable(cause error) error {
	return fmt.Errorf("append: %w: %v", drainpipe.ErrUnavailable, cause)
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
