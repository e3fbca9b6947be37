package archive

import "time"

// PartitionList names the days the archive holds lines of (YYYYMMDD, one
// VictoriaLogs partition each): where the query side's time windows start
// and stop (see package archive/query).
func (a *Archive) PartitionList() []string {
	return a.store.st.PartitionList()
}

// LastID is the id of the newest line committed: a follower that starts now
// follows from it (After, Wait).
func (a *Archive) LastID() int64 {
	last, _, _ := a.notify.state()
	return last
}

// OwnTime is the LogsQL filter that keeps, of the lines stamped with the time
// they were received because their own time was one the storage could not take,
// those whose own time is in [since, until); "" when both are zero. Add it to a
// _time range so that a range asks for the lines' times, not for when they came.
func OwnTime(since, until time.Time) string {
	return ownTime(since, until)
}
