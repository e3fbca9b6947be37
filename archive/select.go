package archive

// PartitionList names the days the archive holds lines of (YYYYMMDD, one
// VictoriaLogs partition each): where the query side's time windows start
// and stop (see package archive/query).
func (a *Archive) PartitionList() []string {
	return a.store.st.PartitionList()
}
