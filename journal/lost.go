package journal

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// lostAfter is how many health checks in a row must find the stream missing
// before the journal counts it lost: a cluster recovering its metadata may answer
// so for a moment.
const lostAfter = 3

// lostStream tracks whether the journal's stream on an external NATS server was
// deleted or replaced under this process (the servers lost their store, or an
// operator deleted the stream): its appends, its sinks' cursors and its drain
// store then all point at nothing, and only a restart takes up the new stream.
type lostStream struct {
	mu      sync.Mutex
	missing int   // checks in a row that found no stream
	err     error // why the journal is lost; nil while it is not
}

// Lost is nil while the journal's stream is the one this process opened; once
// it was deleted or replaced under it, the error says so. Nothing this process
// does brings it back: restart it (a supervisor does, when /healthz fails).
func (j *Journal) Lost() error {
	j.lost.mu.Lock()
	defer j.lost.mu.Unlock()
	return j.lost.err
}

// checkStream looks, on an external server, whether the stream is still this
// journal's, and marks the journal lost when it is not.
func (j *Journal) checkStream(ctx context.Context) {
	if j.srv != nil || j.Lost() != nil {
		return
	}
	info, err := j.js.Stream(ctx, streamName)
	j.lost.mu.Lock()
	defer j.lost.mu.Unlock()
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		if j.lost.missing++; j.lost.missing < lostAfter {
			return
		}
		j.lost.err = fmt.Errorf("the journal's stream %s is gone from the NATS servers (their store lost, or the stream deleted): restart drainpipe to make a new one", streamName)
	case err != nil:
		return // the servers do not answer: the appends say so
	case info.CachedInfo().Config.Metadata[idKey] != j.id:
		j.lost.err = fmt.Errorf("the journal's stream %s was made again under this process (journal %s, this process had %s): restart drainpipe to take it up",
			streamName, info.CachedInfo().Config.Metadata[idKey], j.id)
	default:
		j.lost.missing = 0
		return
	}
	j.log.Error("THE JOURNAL WAS LOST UNDER THIS PROCESS: drains are answered 503 and /healthz fails until it is restarted", "err", j.lost.err)
	j.health.failing(fmt.Errorf("%w: %w", errJournalLost, j.lost.err), true)
}

// errJournalLost marks the health failure of a lost journal.
var errJournalLost = errors.New("journal lost")
