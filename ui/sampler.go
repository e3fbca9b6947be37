package ui

import "time"

// sampler keeps a live tail within the rate a page can show: limit lines a
// second, with bursts of up to burstSeconds×limit (lines reach the archive in
// batches, so a steady limit lines a second arrives in uneven clumps). A token
// bucket decides whether a line may go; when the flood lasts and the bucket
// runs low, the sampler keeps one line in k, k from the rate of the second
// before, so what is shown is spread evenly rather than the first lines of
// every second.
type sampler struct {
	limit  int
	tokens float64
	last   time.Time
	// every is k: one line in every is kept; n counts lines since the last kept.
	every, n int
	// second is the start of the current one-second window; seen and kept count
	// its lines.
	second     time.Time
	seen, kept int
	// lastRate and lastKept are the rates of lines seen and kept in the last
	// closed window.
	lastRate, lastKept int
}

// burstSeconds is the bucket's size, in seconds of the limit.
const burstSeconds = 3

func newSampler(limit int) *sampler {
	return &sampler{limit: limit, tokens: float64(burstSeconds * limit), every: 1}
}

// keep decides for one line seen at now. It reports whether a one-second window
// closed, so the stream can tell the page the rates.
func (s *sampler) keep(now time.Time) (keep, windowClosed bool) {
	windowClosed = s.roll(now)
	s.refill(now)
	s.seen++
	s.n++
	if s.n < s.every || s.tokens < 1 {
		return false, windowClosed
	}
	s.n = 0
	s.tokens--
	s.kept++
	return true, windowClosed
}

func (s *sampler) refill(now time.Time) {
	if !s.last.IsZero() && now.After(s.last) {
		s.tokens = min(s.tokens+now.Sub(s.last).Seconds()*float64(s.limit), float64(burstSeconds*s.limit))
	}
	s.last = now
}

// roll closes the window when a second passed. While the bucket holds more than a
// second's worth, every line may go; below that, k follows the rate just measured.
func (s *sampler) roll(now time.Time) bool {
	if s.second.IsZero() {
		s.second = now
		return false
	}
	elapsed := now.Sub(s.second)
	if elapsed < time.Second {
		return false
	}
	s.refill(now)
	s.lastRate = int(float64(s.seen)/elapsed.Seconds() + 0.5)
	s.lastKept = int(float64(s.kept)/elapsed.Seconds() + 0.5)
	if s.kept < s.seen && s.lastKept >= s.lastRate {
		s.lastKept = s.lastRate - 1 // rounding must not hide that lines were left out
	}
	s.every = 1
	if s.tokens < float64(s.limit) && s.lastRate > s.limit {
		s.every = (s.lastRate + s.limit - 1) / s.limit
	}
	s.second, s.seen, s.kept = now, 0, 0
	return true
}

// status is what the page shows: the rates of matching lines and of lines sent
// in the last second, and whether the stream is leaving lines out.
func (s *sampler) status() (rate, kept int, sampled bool) {
	return s.lastRate, s.lastKept, s.lastKept < s.lastRate || s.every > 1
}
