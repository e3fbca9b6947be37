package archive

import (
	"math"
	"sync"
)

// recentCap is how many writes recentWrites remembers: hours of a busy
// archive's writes, for a few kilobytes.
const recentCap = 4096

// recentWrites remembers, for the latest writes of this process, which ids
// they gave and which days their rows fall on, so that After, asked for the
// lines after an id, searches those days rather than every day.
type recentWrites struct {
	mu     sync.Mutex
	writes []recentWrite // oldest first
	// from is the lowest id the writes cover from: ids below it were given
	// before this process or by writes forgotten since.
	from int64
}

type recentWrite struct {
	lastID int64
	minDay int64
}

func newRecentWrites() *recentWrites { return &recentWrites{from: math.MaxInt64} }

// add records a write's ids and days.
func (r *recentWrites) add(in intent, days map[int64]bool) {
	if len(in.Entries) == 0 || len(days) == 0 {
		return
	}
	first, last := in.Entries[0].FirstID, in.Entries[0].FirstID
	for _, e := range in.Entries {
		first, last = min(first, e.FirstID), max(last, e.FirstID+e.Rows-1)
	}
	minDay := int64(math.MaxInt64)
	for d := range days {
		minDay = min(minDay, d)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.writes) == 0 {
		r.from = first
	}
	r.from = min(r.from, first)
	if len(r.writes) == recentCap {
		r.from = r.writes[0].lastID + 1
		r.writes = append(r.writes[:0], r.writes[1:]...)
	}
	r.writes = append(r.writes, recentWrite{lastID: last, minDay: minDay})
}

// rangeAfter is the _time range that holds every row with an id above afterID.
func (r *recentWrites) rangeAfter(afterID int64) timeRange {
	r.mu.Lock()
	defer r.mu.Unlock()
	if afterID+1 < r.from {
		return allTime()
	}
	tr := allTime()
	minDay := int64(math.MaxInt64)
	for i := len(r.writes) - 1; i >= 0 && r.writes[i].lastID > afterID; i-- {
		minDay = min(minDay, r.writes[i].minDay)
	}
	if minDay != math.MaxInt64 {
		tr.start = minDay * nsPerDay
	}
	return tr
}
