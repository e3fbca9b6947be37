package journal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/internal/backoff"
)

// health is whether the journal can write now, and if not, why.
type health struct {
	mu    sync.Mutex
	err   error     // why the journal cannot write; nil when it can
	known bool      // err is the server's own report of a write failure: appends fail at once
	since time.Time // when err was first seen
}

// failing reports err and whether it is news.
func (h *health) failing(err error, known bool) (news bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	news = h.err == nil || (known && !h.known)
	if h.err == nil {
		h.since = time.Now()
	}
	if known || !h.known { // the server's own report says more than a commit's timeout
		h.err = err
	}
	h.known = known || h.known
	return news
}

// fine reports that the journal writes, and whether that is news.
func (h *health) fine() (news bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	news = h.err != nil
	h.err, h.known = nil, false
	return news
}

// committed records a commit's outcome and reports whether the state changed.
func (h *health) committed(err error) bool {
	if err == nil {
		return h.fine()
	}
	return h.failing(err, false)
}

// broken is the error Append answers at once while the server reports that it
// cannot write: waiting for it would only make senders time out.
func (h *health) broken() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.known {
		return nil
	}
	return unavailable(h.err)
}

// state is why the journal cannot write (nil when it can), since when, and
// whether the server itself reported it.
func (h *health) state() (since time.Time, known bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.since, h.known, h.err
}

// Ready is nil when the journal can take writes, else why not: it is full (its
// cap, or its disk), or its server cannot write or does not answer. It turns nil
// again by itself once the cause is gone (the sinks made room, space returned).
func (j *Journal) Ready() error {
	since, _, err := j.health.state()
	if err == nil {
		return nil
	}
	return fmt.Errorf("journal cannot write since %s: %w", since.UTC().Format(time.RFC3339), err)
}

// healthLoop checks, every HealthInterval, whether the journal can write, and
// mends what it can: an embedded server that hit a write error (a full disk)
// keeps failing every write and purge until its JetStream is restarted, which
// it is once space is free again.
func (j *Journal) healthLoop() {
	defer j.wg.Done()
	t := time.NewTicker(j.cfg.HealthInterval)
	defer t.Stop()
	// Free space is checked at every tick; a restart that failed with space free
	// is tried again after a growing pause.
	retry := backoff.Backoff{Min: j.cfg.HealthInterval, Max: time.Minute}
	var nextRestart time.Time
	waited := false // "waiting for space" was logged in this outage
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
		}
		if j.lowOnSpace() != nil {
			continue
		}
		j.checkLost()
		err := j.serverWriteError()
		if err == nil {
			waited = false
			j.probe()
			continue
		}
		if j.health.failing(err, true) {
			j.log.Error("journal cannot write; appends are answered 503 until it can", "err", err)
		}
		if !j.roomToRestart(!waited) {
			waited = true
			continue
		}
		if time.Now().After(nextRestart) {
			if j.restartJetStream() {
				retry.Reset()
			}
			nextRestart = time.Now().Add(retry.Next())
		}
	}
}

// errLowSpace is why appends are refused while the disk is under MinFreeBytes.
var errLowSpace = errors.New("the disk is under the journal's free space reserve")

// lowOnSpace refuses appends (as a known failure: at once, 503) while the embedded
// journal's disk has less than MinFreeBytes free, and returns the error Append
// answers while it does (nil when there is room). Append checks it each time (a
// statfs: a few microseconds), the health loop at each tick; once space
// returns, the loop's probe clears the failure.
//
// The error is returned rather than read back from the health state: a commit
// in flight may succeed meanwhile and clear that state, and an Append that then
// found no error would answer 2xx for a batch it never wrote.
func (j *Journal) lowOnSpace() error {
	if j.srv == nil || j.cfg.MinFreeBytes <= 0 {
		return nil
	}
	free, ok := freeBytes(j.cfg.Dir)
	if !ok || free >= j.cfg.MinFreeBytes {
		return nil
	}
	err := fmt.Errorf("%w: %d bytes free, %d kept", errLowSpace, free, j.cfg.MinFreeBytes)
	if j.health.failing(err, true) {
		j.log.Error("journal disk under its free space reserve; appends are answered 503 until space returns",
			"dir", j.cfg.Dir, "free_bytes", free, "reserve_bytes", j.cfg.MinFreeBytes)
	}
	return unavailable(err)
}

// roomToRestart reports whether the embedded server's disk has room again: a
// restart on a disk still full would fail the same way. logWait logs the wait.
func (j *Journal) roomToRestart(logWait bool) bool {
	free, ok := freeBytes(j.cfg.Dir)
	if !ok || free >= recoverFree {
		return true
	}
	if logWait {
		j.log.Warn("journal waits for free disk space to restart", "dir", j.cfg.Dir, "free_bytes", free, "needs", recoverFree)
	}
	return false
}

// serverWriteError is the embedded server's report of a stream or consumer that
// cannot write, or of JetStream turned off; nil with an external server. A
// failure counts only if the next report says it again: the server's report
// begins with a readiness check that waits 1 ms, which a busy process (its
// goroutine not scheduled for a millisecond, a GC pause) fails now and then, and
// a false alarm would restart JetStream under load. A write error stays.
func (j *Journal) serverWriteError() error {
	if j.srv == nil {
		return nil
	}
	var err error
	for range 3 {
		st := j.srv.Healthz(nil)
		if st == nil || st.StatusCode == 200 {
			return nil
		}
		err = fmt.Errorf("nats server: %s", st.Error)
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

// checkLost runs checkStream within a health interval.
func (j *Journal) checkLost() {
	ctx, cancel := context.WithTimeout(context.Background(), j.cfg.HealthInterval)
	defer cancel()
	j.checkStream(ctx)
}

// probe clears a failure that is over: the journal is under its cap again, or
// the server answers again.
func (j *Journal) probe() {
	_, known, err := j.health.state()
	if err == nil || j.Lost() != nil {
		return // a lost journal stays failed: a new stream under its name is not it
	}
	ctx, cancel := context.WithTimeout(context.Background(), j.cfg.HealthInterval)
	defer cancel()
	info, ierr := j.streamInfo(ctx)
	if ierr != nil {
		j.health.failing(fmt.Errorf("stream info: %w", ierr), false)
		return
	}
	if errors.Is(err, drainpipe.ErrJournalFull) && info.State.Bytes > uint64(j.cfg.MaxBytes)/16*15 {
		return // still full: the sinks have not made room yet
	}
	if j.health.fine() {
		j.log.Info("journal writes again", "was", err, "after_server_report", known)
	}
}

// restartJetStream turns the embedded JetStream off and on again, which reloads
// the streams from their files and clears their write errors. It reports whether
// the restart succeeded.
func (j *Journal) restartJetStream() bool {
	j.log.Warn("restarting the embedded JetStream to clear its write error")
	if err := j.srv.ShutdownJetStream(); err != nil {
		j.log.Error("stop JetStream", "err", err)
	}
	cfg := j.jsCfg
	cfg.StoreDir = j.cfg.Dir // EnableJetStream adds the "jetstream" directory itself
	if err := j.srv.EnableJetStream(&cfg); err != nil {
		j.log.Error("restart JetStream", "err", err)
		return false
	}
	if err := j.serverWriteError(); err != nil {
		j.log.Error("JetStream restarted, still cannot write", "err", err)
		return false
	}
	j.health.fine()
	j.log.Info("journal writes again: JetStream restarted")
	return true
}

// recoverFree is the free space a restart waits for: room for a few commits.
const recoverFree = 4 << 20
