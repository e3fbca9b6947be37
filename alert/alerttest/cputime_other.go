//go:build !unix

package alerttest

import "time"

// cpuTime is not measured here: BenchRules then reports no core-%.
func cpuTime() time.Duration { return 0 }
