package archive

// SetSynchronous sets the sync mode of archives opened later, for BenchmarkWrite.
func SetSynchronous(mode string) { synchronous = mode }
