package archive_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe/archive"
)

// TestArchiveFilesAreReadNotMapped: a search reads the archive's part files
// with pread, so none of them is mapped into the process (mapped, every page a
// search touched would count in its resident memory).
func TestArchiveFilesAreReadNotMapped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "archive")
	a := open(t, archive.Config{Dir: dir})
	write(t, a, entry(1, seqLines("app", received, 5000)...))
	waitDurable(t, a, 1)
	if err := a.Close(); err != nil { // the rows are flushed into files on disk
		t.Fatal(err)
	}
	a = open(t, archive.Config{Dir: dir})
	lines, err := a.Search(context.Background(), archive.Query{App: "app", Match: "4999", Limit: 10})
	if err != nil || len(lines) != 1 {
		t.Fatalf("search after reopening: %d lines, %v; want 1", len(lines), err)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range strings.Split(string(maps), "\n") {
		if strings.Contains(m, dir) {
			t.Errorf("an archive file is mapped: %s", m)
		}
	}
}
