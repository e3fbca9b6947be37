package archive

import (
	"context"
	"time"
)

// AppStats summarizes what the archive holds for one app.
type AppStats struct {
	// Lines and Malformed count the stored lines, and those among them that did not parse.
	Lines, Malformed int64
	// Dropped counts the lines Heroku reported it dropped before they reached us.
	Dropped int64
	// First and Last are the oldest and newest time a line is filed under: its
	// own Time, or when it was received for a line whose own time the archive
	// cannot store (older than the retention, more than a day ahead); zero when
	// there are no lines. Last is never later than the line was received (a
	// line dated hours ahead counts as received). After retention deleted
	// days, First is the oldest kept.
	First, Last time.Time
	// LastReceived is when the most recently arrived line was received.
	LastReceived time.Time
}

// Stats returns app's counts and times, as of the last Write that returned.
// They are kept with the rows, in the same durable step, so they are exact
// across crashes. An app with no lines has zero stats.
func (a *Archive) Stats(_ context.Context, app string) (AppStats, error) {
	st := a.current()
	var c appCounts
	for _, n := range []*appCounts{st.Apps[app], st.staged[app]} {
		if n != nil {
			c.add(n)
		}
	}
	if c.Lines == 0 {
		return AppStats{}, nil
	}
	return AppStats{Lines: c.Lines, Malformed: c.Malformed, Dropped: c.Dropped,
		First: fromNanos(c.First), Last: fromNanos(c.Last), LastReceived: fromNanos(c.LastReceived)}, nil
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
