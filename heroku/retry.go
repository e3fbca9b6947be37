package heroku

import (
	"context"
	"github.com/drainpipe/drainpipe/internal/backoff"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Heroku's limit is a budget of 4,500 requests per account that refills
// continuously, so waiting a little always buys another request: the client backs
// off after a 429 rather than failing, and spaces its requests when the budget runs
// low rather than spending it to the last request.

// maxRetryAfter caps a Retry-After the client will honour: a longer one is treated
// as "much later", which the bounded attempts cannot outlast anyway.
const maxRetryAfter = 2 * time.Minute

// backoff is the wait before retry number attempt (1 for the first retry):
// exponential from RetryWait, capped at 16 times it, with jitter so that several
// drainpipe processes sharing a key do not retry in step. A Retry-After that asks
// for longer wins.
func (c *Client) backoff(attempt int, hdr http.Header) time.Duration {
	d := c.retryWait << min(attempt-1, 4)
	// Full jitter over the upper half: never less than half the nominal wait.
	d = d/2 + rand.N(d/2+1)
	if ra := retryAfter(hdr); ra > d {
		d = ra
	}
	return d
}

// retryAfter reads a Retry-After in seconds, 0 when absent or unusable.
func retryAfter(hdr http.Header) time.Duration {
	if hdr == nil {
		return 0
	}
	s, err := strconv.Atoi(strings.TrimSpace(hdr.Get("Retry-After")))
	if err != nil || s <= 0 {
		return 0
	}
	return min(time.Duration(s)*time.Second, maxRetryAfter)
}

// pace waits MinInterval before a request when Heroku last reported fewer than
// LowRemaining requests left, so the budget refills as fast as it is spent.
func (c *Client) pace(ctx context.Context) error {
	if r := c.remaining.Load(); r >= 0 && r < c.lowRemaining {
		return backoff.Sleep(ctx, c.minInterval)
	}
	return nil
}
