package herokuemu

import (
	"math"
	"time"
)

// bucket is Heroku's rate limit as documented: a budget of RateLimit requests that
// refills continuously over RatePeriod, rather than resetting at fixed times.
type bucket struct {
	capacity float64
	tokens   float64
	last     time.Time
}

// refill adds what the time since the last call has earned.
func (b *bucket) refill(cfg Config, now time.Time) {
	if !b.last.IsZero() && now.After(b.last) {
		rate := float64(cfg.RateLimit) / float64(cfg.RatePeriod)
		b.tokens = math.Min(b.capacity, b.tokens+rate*float64(now.Sub(b.last)))
	}
	b.last = now
}

// remaining is the whole number of requests left now.
func (b *bucket) remaining(cfg Config, now time.Time) int {
	b.refill(cfg, now)
	return int(b.tokens)
}

// take spends one request if one is left, and returns what remains after.
func (b *bucket) take(cfg Config, now time.Time) (int, bool) {
	b.refill(cfg, now)
	if b.tokens < 1 {
		return int(b.tokens), false
	}
	b.tokens--
	return int(b.tokens), true
}
