package cloudwatch

import (
	"slices"
	"time"
)

// PutLogEvents limits.
const (
	maxBatchEvents = 10000
	maxBatchBytes  = 1 << 20
	eventOverhead  = 26
	maxBatchSpan   = 24 * time.Hour
)

// event is one log event on its way to a stream.
type event struct {
	ts  int64  // milliseconds since the epoch: the line's own time
	msg string // never empty, at most maxEventBytes
	app string
	ord int // position in the order the lines arrived in
	// line marks the first event of its line, so a split line counts once.
	line bool
}

func (e *event) size() int { return len(e.msg) + eventOverhead }

// batches sorts a stream's events stably by timestamp and cuts them into batches
// within PutLogEvents' limits: count, bytes, and a span under 24 hours.
func batches(evs []event) [][]event {
	slices.SortStableFunc(evs, func(a, b event) int {
		switch {
		case a.ts < b.ts:
			return -1
		case a.ts > b.ts:
			return 1
		}
		return 0
	})
	var out [][]event
	start, size := 0, 0
	for i := range evs {
		s := evs[i].size()
		if i > start && (i-start >= maxBatchEvents || size+s > maxBatchBytes ||
			evs[i].ts-evs[start].ts >= maxBatchSpan.Milliseconds()) {
			out = append(out, evs[start:i])
			start, size = i, 0
		}
		size += s
	}
	if start < len(evs) {
		out = append(out, evs[start:])
	}
	return out
}
