package ui

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// loginLimiter caps login attempts per client address: a burst, then one every
// interval. It remembers at most max addresses; past that, addresses it does not
// know share one bucket, so a flood of addresses cannot grow memory or buy an
// unlimited number of guesses.
type loginLimiter struct {
	mu       sync.Mutex
	every    time.Duration
	burst    int
	max      int
	byAddr   map[string]*rate.Limiter
	overflow *rate.Limiter
	now      func() time.Time
}

func newLoginLimiter(every time.Duration, burst, maxAddrs int, now func() time.Time) *loginLimiter {
	return &loginLimiter{every: every, burst: burst, max: maxAddrs, byAddr: map[string]*rate.Limiter{},
		overflow: rate.NewLimiter(rate.Every(every), burst), now: now}
}

// allow takes one attempt from addr's bucket. When it is empty it returns false and
// how long until the next attempt is allowed.
func (l *loginLimiter) allow(addr string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.byAddr[addr]
	if lim == nil {
		if len(l.byAddr) >= l.max {
			l.forgetFullLocked(now)
		}
		if len(l.byAddr) < l.max {
			lim = rate.NewLimiter(rate.Every(l.every), l.burst)
			l.byAddr[addr] = lim
		} else {
			lim = l.overflow
		}
	}
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// forgetFullLocked drops the addresses whose bucket has refilled: they are
// indistinguishable from addresses never seen.
func (l *loginLimiter) forgetFullLocked(now time.Time) {
	for addr, lim := range l.byAddr {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.byAddr, addr)
		}
	}
}
