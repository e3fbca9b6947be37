package api

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe"
)

// ParseTime reads a time as `--since`, `--until` and the API's since and until
// parameters take it, and returns the span it names, [start, end):
//
//	24h, 90m, 1h30m, 7d, 2w     that long before now (an instant: start == end)
//	now                         now
//	2026-11-28T10:00:00Z        RFC 3339, with any fraction and zone; without a
//	2026-11-28T10:00            zone, or with a space for the T, it is UTC
//	2026-11-28                  that whole UTC day
//	today, yesterday            that whole UTC day
//
// A since bound takes the start and an until bound the end, so `--since
// yesterday --until yesterday` is all of yesterday and `--until 2026-11-28`
// includes the 28th. Days are UTC days, as Heroku's timestamps are UTC. A time
// past what a line can carry (before 1678, after 2262: int64 nanoseconds) is
// taken as the first or last of those: `--until 9999-12-31` bounds nothing.
func ParseTime(s string, now time.Time) (start, end time.Time, err error) {
	start, end, err = parseTime(s, now)
	if err != nil {
		return start, end, err
	}
	return clampTime(start), clampTime(end), nil
}

// clampTime is t within the times a line can carry.
func clampTime(t time.Time) time.Time {
	switch {
	case t.Before(drainpipe.FirstTime):
		return drainpipe.FirstTime
	case t.After(drainpipe.LastTime):
		return drainpipe.LastTime
	}
	return t
}

func parseTime(s string, now time.Time) (start, end time.Time, err error) {
	s = strings.TrimSpace(s)
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	switch strings.ToLower(s) {
	case "now":
		return now, now, nil
	case "today":
		return today, today.AddDate(0, 0, 1), nil
	case "yesterday":
		return today.AddDate(0, 0, -1), today, nil
	}
	if d, ok := parseAgo(s); ok {
		t := now.Add(-d)
		return t, t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, t.AddDate(0, 0, 1), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, t, nil
	}
	for _, layout := range zoneless {
		if t, err := time.ParseInLocation(layout, strings.Replace(s, " ", "T", 1), time.UTC); err == nil {
			return t, t, nil
		}
	}
	return time.Time{}, time.Time{}, fmt.Errorf("want a duration ago (24h, 90m, 7d), a date (2026-11-28), an RFC 3339 time (2026-11-28T10:00:00Z), today, yesterday or now, not %q", s)
}

// zoneless are the layouts of times given without a zone, read as UTC.
var zoneless = []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04"}

// Since is the start of the span ParseTime reads in s; "" is the zero time (open).
func Since(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	start, _, err := ParseTime(s, now)
	return start, err
}

// Until is the end of the span ParseTime reads in s; "" is the zero time (open).
func Until(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	_, end, err := ParseTime(s, now)
	return end, err
}

// ParseSpan reads a length of time as the duration flags and the API's step
// take it: Go's units (90s, 24h, 1h30m) and also d (24h) and w (7d), in any
// combination such as 1d12h; never negative.
func ParseSpan(s string) (time.Duration, error) {
	d, ok := parseAgo(strings.TrimSpace(s))
	if !ok {
		return 0, fmt.Errorf("want a length of time such as 90s, 24h, 7d or 2w, not %q", s)
	}
	return d, nil
}

// parseAgo reads a non-negative duration: Go's units (h, m, s, ms ...) and also
// d (24h) and w (7d), in any combination such as 1d12h.
func parseAgo(s string) (time.Duration, bool) {
	if s == "" || s[0] == '-' || s[0] == '+' {
		return 0, false
	}
	var total time.Duration
	for s != "" {
		i := strings.IndexAny(s, "dw")
		if i < 0 {
			d, err := time.ParseDuration(s)
			if err != nil || d < 0 || d > math.MaxInt64-total {
				return 0, false
			}
			return total + d, true
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil || n < 0 || strings.ContainsAny(s[:i], "eEinfINFxX_+-") {
			return 0, false
		}
		unit := 24 * time.Hour
		if s[i] == 'w' {
			unit *= 7
		}
		if n*float64(unit) > float64(1<<62) {
			return 0, false
		}
		total += time.Duration(n * float64(unit))
		s = s[i+1:]
	}
	return total, true
}
