package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/drainpipe/drainpipe/internal/backoff"
)

// FollowWait is how long each request of Follow waits on the server for new lines.
const FollowWait = 25 * time.Second

// Follow calls fn with the lines of s.App after the line with id after (narrowed
// as After narrows them), in the order they were stored, until ctx ends (it then
// returns nil) or fn fails. When the server goes away (a restart, a network
// fault, a 5xx) Follow waits for it and carries on after the last line it was
// given, so no line is missed or repeated; lost, when set, is told when the
// server is lost and (with nil) when it answers again. An answer that retrying
// cannot mend (400, 401, 404) ends it with that error.
func (c *Client) Follow(ctx context.Context, s Search, after int64, fn func([]Line) error, lost func(error)) error {
	retry := backoff.Backoff{Min: 200 * time.Millisecond, Max: 5 * time.Second}
	broken := false
	for ctx.Err() == nil {
		lines, next, err := c.After(ctx, s, after, FollowWait)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if !retryable(err) {
				return err
			}
			if lost != nil && !broken {
				lost(err)
			}
			broken = true
			_ = retry.Wait(ctx)
			continue
		}
		if broken && lost != nil {
			lost(nil)
		}
		broken = false
		retry.Reset()
		if len(lines) > 0 {
			if err := fn(lines); err != nil {
				return err
			}
		}
		after = next
	}
	return nil
}

// retryable reports whether a failed call may succeed later: the server could not
// be reached, or answered 5xx or 429.
func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code >= 500 || se.Code == http.StatusTooManyRequests
	}
	return true // not an answer: the server could not be reached, or went away mid-call
}
