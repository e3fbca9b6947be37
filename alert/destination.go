package alert

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Destination is where a rule's notifications go: a Slack channel, a PagerDuty
// service, a webhook, a mailbox.
type Destination interface {
	// Send delivers one notification, within ctx's deadline. An error that wraps
	// ErrRejected means the destination refused it for good (retrying will not
	// help); a *RetryAfterError asks for a pause. Errors never hold the
	// destination's secret.
	Send(ctx context.Context, n Notification) error
	// String is the destination with its secrets redacted, safe to show and log.
	String() string
}

// Opener turns a destination URL into a Destination. Its errors never hold the
// URL's secret.
type Opener interface {
	Open(rawURL string) (Destination, error)
}

// OpenerFunc adapts a function to Opener.
type OpenerFunc func(rawURL string) (Destination, error)

// Open calls f.
func (f OpenerFunc) Open(rawURL string) (Destination, error) { return f(rawURL) }

// ErrRejected means a destination refused a notification for good (a 4xx other than
// 408 and 429, a mailbox that does not exist).
var ErrRejected = errors.New("rejected by the destination")

// RetryAfterError is a destination's request to wait before the next try (HTTP 429
// with Retry-After).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }
