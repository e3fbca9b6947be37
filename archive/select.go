package archive

import (
	"math"
)

// DataRange is the oldest and the newest _time the archive holds, from its
// parts' headers (no rows are read): where the query side's time windows start
// and stop (see package archive/query). ok is false when it holds none.
func (a *Archive) DataRange() (lo, hi int64, ok bool) {
	ss := a.store.stats()
	if ss.MinTimestamp == math.MinInt64 || ss.MaxTimestamp == math.MaxInt64 || ss.MinTimestamp > ss.MaxTimestamp {
		return 0, 0, false
	}
	return ss.MinTimestamp, ss.MaxTimestamp, true
}

// LastID is the id of the newest line committed: a follower that starts now
// follows from it (After, Wait).
func (a *Archive) LastID() int64 {
	last, _, _ := a.notify.state()
	return last
}
