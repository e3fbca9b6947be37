package journal

import (
	"sync"
	"time"
)

// writtenSize is how many of its newest messages a journal remembers the time
// of: more than the messages of the last endBytes at full ingest (a few MiB
// each), and enough for a second of small commits at low rates.
const writtenSize = 4096

// written remembers when this process wrote its newest journal messages, so
// that a sink's lag near the journal's end is known without reading a message
// there. Reading one (GetMsg) loads its block, and when that is the block NATS
// is writing the server gives up the block's 8 MiB write buffer and takes a new
// one at its next write: a scrape of the lag once a second, with three sinks
// reading near the end, brought back the hundreds of MB of buffers the sinks'
// pacing (ConsumeOptions.HeadPace) had removed (docs/benchmarks.md).
type written struct {
	mu   sync.Mutex
	ring [writtenSize]stamp
	next int // where the next stamp goes
	n    int // stamps held
}

// stamp is one message this process wrote: its sequence, subject and when its
// write was acknowledged (after the server's fsync: within milliseconds of the
// time the server gave it).
type stamp struct {
	seq     uint64
	subject string
	at      time.Time
}

// add remembers the message seq on subject, acknowledged at at.
func (w *written) add(seq uint64, subject string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ring[w.next] = stamp{seq: seq, subject: subject, at: at}
	w.next = (w.next + 1) % writtenSize
	w.n = min(w.n+1, writtenSize)
}

// timeOf is when the first message at or after seq on subject (any subject when
// it is "") was written, as GetMsg with that subject would find it. ok is false
// unless every message from seq to that one was written by this process and is
// still remembered: another node's write in between, or one older than the
// ring, leaves the answer to the server.
func (w *written) timeOf(seq uint64, subject string) (at time.Time, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var found *stamp
	for i := range w.n {
		s := &w.ring[i]
		if s.seq >= seq && (subject == "" || s.subject == subject) && (found == nil || s.seq < found.seq) {
			found = s
		}
	}
	if found == nil {
		return time.Time{}, false
	}
	// Every sequence in [seq, found.seq] must be one of ours, else a message
	// this process did not write may match first.
	held := 0
	for i := range w.n {
		if s := w.ring[i].seq; s >= seq && s <= found.seq {
			held++
		}
	}
	return found.at, uint64(held) == found.seq-seq+1
}
