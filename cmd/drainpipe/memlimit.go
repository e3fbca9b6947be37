package main

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strings"
)

// defaultMemoryLimit is --memory-limit's default: the Go runtime's soft limit.
// It counts the Go heap, stacks and runtime (the embedded NATS server and the
// VictoriaLogs archive included), not the binary's own pages (~54 MB resident).
// The goal is 256 MB for the whole process at full ingest with every sink
// on (a 512 MB dyno). At 160 MiB, once the embedded journal's blocks were 4 MiB
// (journal/capped.go) and the budget of bodies in flight followed the limit
// (bodiesInFlight), the process peaked at 234–248 MB (VmHWM) at 16 connections
// and 237–255 MB at 64, at 94–138k and 160–182k lines/s on this 2-core machine;
// 192 MiB gave 262–275 MB for ~1.25× the lines, 512 MiB ~1.3–1.8× for twice the
// memory (docs/benchmarks.md).
const defaultMemoryLimit = 160 << 20

// memoryLimit is the soft memory limit the Go runtime is given, and where it
// came from.
type memoryLimit struct {
	bytes  int64 // math.MaxInt64: no limit
	source string
}

// String says the limit as the start log line shows it.
func (m memoryLimit) String() string {
	if m.bytes == math.MaxInt64 {
		return "off"
	}
	return fmt.Sprintf("%dMiB", m.bytes>>20)
}

// chooseMemoryLimit decides the limit: --memory-limit (or DRAINPIPE_MEMORY_LIMIT)
// when given, where "off" or 0 means none; else GOMEMLIMIT when the operator set
// it (the runtime has already read it); else the default.
func chooseMemoryLimit(flag, gomemlimit string) (memoryLimit, error) {
	switch v := strings.TrimSpace(flag); {
	case v == "off" || v == "0":
		return memoryLimit{math.MaxInt64, "--memory-limit"}, nil
	case v != "":
		var b byteSize
		if err := b.Set(v); err != nil {
			return memoryLimit{}, usagef("--memory-limit: %v, or off", err)
		}
		return memoryLimit{b.n, "--memory-limit"}, nil
	case gomemlimit != "":
		return memoryLimit{debug.SetMemoryLimit(-1), "GOMEMLIMIT"}, nil
	}
	return memoryLimit{defaultMemoryLimit, "default"}, nil
}

// bodiesInFlight is --max-body-in-flight's default: a 40th of the limit, between
// 1 and 32 MiB (32 MiB with no limit). The request bodies in flight, with their
// parsed lines and journal encodings, are the ingest path's share of the heap,
// and how many requests it works on at once: at 160 MiB, 4 MiB (32 of logplex's
// ~100 KB batches) kept 64 connections' peak under 256 MB where 32 MiB did not
// bind at all (docs/benchmarks.md); a larger limit buys throughput here too.
func (m memoryLimit) bodiesInFlight() int64 {
	return min(max(m.bytes/40, 1<<20), 32<<20)
}

// apply sets the limit in the runtime.
func (m memoryLimit) apply() { debug.SetMemoryLimit(m.bytes) }

// gomemlimit is the GOMEMLIMIT the process was started with.
func gomemlimit() string { return os.Getenv("GOMEMLIMIT") }
