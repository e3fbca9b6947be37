package archive

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
