package verify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// errPermanent marks read-back errors that asking again cannot mend (a refused
// token, an unknown app): the run stops at once instead of waiting cfg.Wait.
var errPermanent = errors.New("permanent")

// permanent marks err as one that asking again cannot mend.
func permanent(err error) error { return &permanentError{err} }

type permanentError struct{ err error }

func (e *permanentError) Error() string        { return e.err.Error() }
func (e *permanentError) Unwrap() error        { return e.err }
func (e *permanentError) Is(target error) bool { return target == errPermanent }

// readBack polls the reader while the pairs are sent (sent yields send's outcome
// once they are), then until every pair sent is found whole or cfg.Wait passes.
// When the drain acknowledged nothing at all there are no stragglers to wait for,
// and one read after the sending settles it.
//
// When the sending stopped because the drain stopped answering, what was sent is
// read back all the same, and the error says why the sending stopped.
func readBack(ctx context.Context, cfg *Config, t *tally, since time.Time, sent <-chan error) (Report, error) {
	var deadline time.Time // set once every pair is sent
	var sendErr error      // why the sending stopped early
	for {
		if deadline.IsZero() {
			select {
			case err := <-sent:
				if err != nil && !errors.Is(err, ErrUnreachable) {
					return t.report(), err
				}
				sendErr = err
				deadline = time.Now().Add(cfg.Wait)
				if t.acked() == 0 {
					deadline = time.Now()
				}
			default:
			}
		}
		seen, err := cfg.Reader.Read(ctx, t.runID, since)
		now := time.Now() // the lines returned were readable by now
		switch {
		case ctx.Err() != nil:
			return t.report(), ctx.Err()
		case errors.Is(err, errPermanent):
			return t.report(), readFailed(sendErr, err)
		case err != nil:
			t.setError(fmt.Errorf("read back: %w", err))
		default:
			t.observe(seen, now, !deadline.IsZero())
		}
		if cfg.Progress != nil {
			cfg.Progress(t.report())
		}
		if deadline.IsZero() {
			if !pause(ctx, pollInterval) {
				return t.report(), ctx.Err()
			}
			continue
		}
		if err == nil && t.complete() {
			return t.report(), sendErr
		}
		if !now.Before(deadline) {
			if err != nil {
				return t.report(), readFailed(sendErr, err)
			}
			return t.report(), sendErr
		}
		if !pause(ctx, min(pollInterval, deadline.Sub(now))) {
			return t.report(), ctx.Err()
		}
	}
}

// readFailed is the error of a read-back that failed for good, after the sending
// stopped early (sendErr) or not (nil).
func readFailed(sendErr, err error) error {
	if sendErr != nil {
		return fmt.Errorf("%w; read back: %w", sendErr, err)
	}
	return fmt.Errorf("read back: %w", err)
}
