package archive_test

import (
	"testing"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/memory"
	"github.com/drainpipe/drainpipe/archive"
)

// TestEngineMemoryLimit: VictoriaLogs sizes its caches, in-memory parts and
// query state from memory.Allowed, computed once, on first use, from its
// flags. Open must set the limit before the storage first asks for it, or the
// engine would size itself from 60% of the machine's memory.
func TestEngineMemoryLimit(t *testing.T) {
	a := open(t, archive.Config{})
	write(t, a, entry(1, seqLines("app", received, 10)...))
	if got := memory.Allowed(); got != archive.DefaultCacheBytes {
		t.Errorf("VictoriaLogs' memory limit is %d bytes, want archive.DefaultCacheBytes (%d)", got, archive.DefaultCacheBytes)
	}
}
