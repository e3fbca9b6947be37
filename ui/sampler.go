package ui

import "time"

// sampler keeps a live tail within the rate a page can show. Up to limit lines a
// second it keeps every line. Above that it keeps one line in k, k worked out
// from the rate of the second before, and never more than limit in any second,
// so a burst is cut at once and a steady flood is thinned evenly.
type sampler struct {
	limit int
	// every is k: one line in every is kept.
	every int
	// second is the start of the current one-second window; seen and kept count
	// its lines.
	second     time.Time
	seen, kept int
	// n counts lines since the last kept one.
	n int
	// lastRate and lastKept are the rates of lines seen and kept in the last
	// closed window.
	lastRate, lastKept int
}

func newSampler(limit int) *sampler { return &sampler{limit: limit, every: 1} }

// keep decides for one line seen at now. It reports whether a window closed, so
// the stream can tell the page the rate.
func (s *sampler) keep(now time.Time) (keep, windowClosed bool) {
	windowClosed = s.roll(now)
	s.seen++
	s.n++
	if s.n < s.every || s.kept >= s.limit {
		return false, windowClosed
	}
	s.n = 0
	s.kept++
	return true, windowClosed
}

// roll closes the window when a second passed: the next window's k follows the
// rate just measured.
func (s *sampler) roll(now time.Time) bool {
	if s.second.IsZero() {
		s.second = now
		return false
	}
	elapsed := now.Sub(s.second)
	if elapsed < time.Second {
		return false
	}
	s.lastRate = int(float64(s.seen)/elapsed.Seconds() + 0.5)
	s.lastKept = int(float64(s.kept)/elapsed.Seconds() + 0.5)
	if s.kept < s.seen && s.lastKept >= s.lastRate {
		s.lastKept = s.lastRate - 1 // rounding must not hide that lines were left out
	}
	s.every = 1
	if s.lastRate > s.limit {
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
