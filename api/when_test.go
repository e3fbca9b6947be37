package api_test

import (
	"math"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/api"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 28, 15, 30, 0, 0, time.UTC)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		in         string
		start, end time.Time
	}{
		{"24h", now.Add(-24 * time.Hour), now.Add(-24 * time.Hour)},
		{"90m", now.Add(-90 * time.Minute), now.Add(-90 * time.Minute)},
		{"1h30m", now.Add(-90 * time.Minute), now.Add(-90 * time.Minute)},
		{"0s", now, now},
		{"7d", now.AddDate(0, 0, -7), now.AddDate(0, 0, -7)},
		{"2w", now.AddDate(0, 0, -14), now.AddDate(0, 0, -14)},
		{"1d12h", now.Add(-36 * time.Hour), now.Add(-36 * time.Hour)},
		{"1.5d", now.Add(-36 * time.Hour), now.Add(-36 * time.Hour)},
		{"now", now, now},
		{"NOW", now, now},
		{"today", day(2026, 11, 28), day(2026, 11, 29)},
		{"yesterday", day(2026, 11, 27), day(2026, 11, 28)},
		{" Yesterday ", day(2026, 11, 27), day(2026, 11, 28)},
		{"2026-11-28", day(2026, 11, 28), day(2026, 11, 29)},
		{"2026-12-31", day(2026, 12, 31), day(2027, 1, 1)},
		{"2026-11-28T10:00:00Z", day(2026, 11, 28).Add(10 * time.Hour), day(2026, 11, 28).Add(10 * time.Hour)},
		{"2026-11-28T10:00:00.123456789Z", day(2026, 11, 28).Add(10*time.Hour + 123456789), day(2026, 11, 28).Add(10*time.Hour + 123456789)},
		{"2026-11-28T11:00:00+01:00", day(2026, 11, 28).Add(10 * time.Hour), day(2026, 11, 28).Add(10 * time.Hour)},
		{"2026-11-28T10:00:00", day(2026, 11, 28).Add(10 * time.Hour), day(2026, 11, 28).Add(10 * time.Hour)},
		{"2026-11-28 10:00:00.5", day(2026, 11, 28).Add(10*time.Hour + 500*time.Millisecond), day(2026, 11, 28).Add(10*time.Hour + 500*time.Millisecond)},
		{"2026-11-28T10:00", day(2026, 11, 28).Add(10 * time.Hour), day(2026, 11, 28).Add(10 * time.Hour)},
		// Past what a line can carry: the first or last time it can.
		{"9999-12-31", time.Unix(0, math.MaxInt64).UTC(), time.Unix(0, math.MaxInt64).UTC()},
		{"0001-01-01", time.Unix(0, math.MinInt64).UTC(), time.Unix(0, math.MinInt64).UTC()},
		{"2262-04-11", day(2262, 4, 11), time.Unix(0, math.MaxInt64).UTC()},
	}
	for _, tt := range tests {
		start, end, err := api.ParseTime(tt.in, now)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", tt.in, err)
			continue
		}
		if !start.Equal(tt.start) || !end.Equal(tt.end) {
			t.Errorf("ParseTime(%q) = [%s, %s), want [%s, %s)", tt.in, start, end, tt.start, tt.end)
		}
	}
}

func TestParseTimeBad(t *testing.T) {
	for _, in := range []string{"", "-24h", "+1h", "d", "1e3d", "12h1d", "infd", "tomorrow", "2026-13-01", "2026-11-28T25:00:00Z", "28/11/2026", "1000000000h", "100000000d", "yesterday-ish"} {
		if start, end, err := api.ParseTime(in, time.Now()); err == nil {
			t.Errorf("ParseTime(%q) = [%s, %s), want an error", in, start, end)
		}
	}
}

func TestSinceUntil(t *testing.T) {
	now := time.Date(2026, 11, 28, 15, 30, 0, 0, time.UTC)
	since, err := api.Since("yesterday", now)
	if err != nil || !since.Equal(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Since(yesterday) = %s, %v", since, err)
	}
	until, err := api.Until("yesterday", now)
	if err != nil || !until.Equal(time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Until(yesterday) = %s, %v", until, err)
	}
	if s, err := api.Since("", now); err != nil || !s.IsZero() {
		t.Errorf(`Since("") = %s, %v; want the zero time`, s, err)
	}
	if u, err := api.Until("", now); err != nil || !u.IsZero() {
		t.Errorf(`Until("") = %s, %v; want the zero time`, u, err)
	}
}

// FuzzParseTime: never panics, and a time it reads is a span that does not end
// before it starts.
func FuzzParseTime(f *testing.F) {
	now := time.Date(2026, 11, 28, 15, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		start, end, err := api.ParseTime(s, now)
		if err == nil && end.Before(start) {
			t.Fatalf("ParseTime(%q) = [%s, %s): ends before it starts", s, start, end)
		}
	})
}
