package ui

import (
	"testing"
	"time"
)

// TestSampler feeds lines at given rates, in clumps as the archive hands them
// over, and counts what the sampler keeps each second.
func TestSampler(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		// clump lines arrive together every gap, for seconds.
		clump   int
		gap     time.Duration
		seconds int
		// wantMin and wantMax bound the lines kept in all.
		wantMin, wantMax int
		sampled          bool
	}{
		{"steady 1000/s in small clumps", 200, 200 * time.Millisecond, 10, 10_000, 10_000, false},
		{"1000/s in clumps of 2 s", 2000, 2 * time.Second, 10, 10_000, 10_000, false},
		{"a burst of 3000 once", 3000, 20 * time.Second, 1, 3000, 3000, false},
		{"5000/s for 10 s", 1000, 200 * time.Millisecond, 10, 12_000, 14_000, true},
		{"20000/s for 10 s", 4000, 200 * time.Millisecond, 10, 12_000, 14_000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSampler(1000)
			kept, sampled := 0, false
			for at := t0; at.Before(t0.Add(time.Duration(tc.seconds) * time.Second)); at = at.Add(tc.gap) {
				for range tc.clump {
					k, closed := s.keep(at)
					if k {
						kept++
					}
					if closed {
						_, _, sm := s.status()
						sampled = sampled || sm
					}
				}
				s.roll(at)
			}
			if kept < tc.wantMin || kept > tc.wantMax {
				t.Errorf("kept %d lines, want %d to %d", kept, tc.wantMin, tc.wantMax)
			}
			if sampled != tc.sampled {
				t.Errorf("said sampled %v, want %v", sampled, tc.sampled)
			}
		})
	}
}

// TestSamplerSpreads checks that a flood is thinned evenly, not cut at the start
// of every second, and that the sampling ends with the flood.
func TestSamplerSpreads(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	s := newSampler(1000)
	at := t0
	// 5000 lines/s, one every 200 µs, for 10 s.
	var lastSecond []int
	for i := range 50_000 {
		at = t0.Add(time.Duration(i) * 200 * time.Microsecond)
		if k, _ := s.keep(at); k && at.After(t0.Add(9*time.Second)) {
			lastSecond = append(lastSecond, i)
		}
	}
	if len(lastSecond) < 900 || len(lastSecond) > 1100 {
		t.Fatalf("kept %d lines in the last second, want about 1000", len(lastSecond))
	}
	for j := 1; j < len(lastSecond); j++ {
		if gap := lastSecond[j] - lastSecond[j-1]; gap > 10 {
			t.Fatalf("kept lines %d and %d: a gap of %d lines; the sample is not spread", lastSecond[j-1], lastSecond[j], gap)
		}
	}
	if rate, kept, sampled := s.status(); rate < 4900 || kept > 1100 || !sampled {
		t.Errorf("status %d, %d, %v; want ~5000 seen, ~1000 kept, sampled", rate, kept, sampled)
	}
	// The flood stops: 100 lines/s.
	for range 500 {
		at = at.Add(10 * time.Millisecond)
		s.keep(at)
	}
	at = at.Add(2 * time.Second)
	s.roll(at)
	kept := 0
	for range 100 {
		at = at.Add(10 * time.Millisecond)
		if k, _ := s.keep(at); k {
			kept++
		}
	}
	if _, _, sampled := s.status(); sampled || kept != 100 {
		t.Errorf("after the flood: kept %d of 100, sampled %v", kept, sampled)
	}
}
