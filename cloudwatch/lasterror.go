package cloudwatch

import (
	"context"
	"sync"
	"time"
)

// lastError keeps the last failed call until a call succeeds, so that an operator
// sees "unreachable" in `drains list` while the sink retries, not "ok".
type lastError struct {
	mu  sync.Mutex
	msg string
	at  time.Time
}

// note records the outcome of a call of op. "Does not exist" and "already exists"
// answers are part of putting first and creating on demand, and a call cut short by
// ctx is no fault of CloudWatch's: none of them is recorded. Neither is a group's
// own lasting failure (access denied to it, its KMS key): the group is parked and
// its apps say so (Status); as the sink's error it showed on every drain. A batch
// the service refused is split and sent again, not a fault of the sink either.
func (l *lastError) note(ctx context.Context, op string, err error) {
	if err != nil {
		switch classify(err) {
		case kindGroupMissing, kindStreamMissing, kindExists, kindPermanent, kindInvalid:
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		l.msg, l.at = "", time.Time{}
		return
	}
	l.msg, l.at = op+": "+describe(err), time.Now()
}

// LastError is the sink's last failed call to CloudWatch and when it failed, while
// no call has succeeded since; empty otherwise.
func (s *Sink) LastError() (string, time.Time) {
	s.lastErr.mu.Lock()
	defer s.lastErr.mu.Unlock()
	return s.lastErr.msg, s.lastErr.at
}
