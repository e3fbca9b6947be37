package journal_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/journal"
)

// bigBatch is a batch of about 256 KiB.
func bigBatch() *drainpipe.Batch {
	b := batch("d", "", 1)
	b.Records[0].Message = strings.Repeat("x", 256<<10)
	return b
}

// TestEmbeddedBlocks: the embedded server writes the journal in blocks of at
// most 4 MiB (nats-server sizes a capped stream's blocks at 8 MiB, and holds a
// block in memory while it is written and read; see capped.go). It fails if a
// nats-server release changes the rule the journal relies on.
func TestEmbeddedBlocks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := open(t, journal.Config{Dir: dir})
	for range 48 { // 12 MiB
		if _, err := j.Append(context.Background(), bigBatch()); err != nil {
			t.Fatal(err)
		}
	}
	blocks, err := filepath.Glob(filepath.Join(dir, "jetstream", "*", "streams", "DRAINPIPE_LOGS", "msgs", "*.blk"))
	if err != nil || len(blocks) == 0 {
		t.Fatalf("no journal blocks under %s: %v", dir, err)
	}
	for _, b := range blocks {
		fi, err := os.Stat(b)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 4<<20 {
			t.Errorf("block %s holds %d bytes, more than 4 MiB", filepath.Base(b), fi.Size())
		}
	}
	if len(blocks) < 3 {
		t.Errorf("12 MiB went into %d blocks, want 3 or more of at most 4 MiB", len(blocks))
	}
}

// TestOwnCapHolds: without a byte cap on the stream, the journal's own keeps
// what it stores within MaxBytes (give or take the commits in flight), refuses
// with ErrJournalFull past it, and takes appends again once the sinks delivered
// and the purge made room.
func TestOwnCapHolds(t *testing.T) {
	t.Parallel()
	const limit = 8 << 20
	j := open(t, journal.Config{MaxBytes: limit, Sinks: []string{"s"}, PurgeInterval: 100 * time.Millisecond})
	ctx := context.Background()
	var err error
	appended := 0
	for ; appended < 100 && err == nil; appended++ {
		_, err = j.Append(ctx, bigBatch())
	}
	if !errors.Is(err, drainpipe.ErrJournalFull) {
		t.Fatalf("after %d appends of 256 KiB into a cap of 8 MiB: err = %v, want ErrJournalFull", appended, err)
	}
	if stored := (appended - 1) * 256 << 10; stored > limit || stored < limit-1<<20 {
		t.Errorf("the cap refused after %d KiB of batches, want between 7 and 8 MiB", stored>>10)
	}
	c := &collector{name: "s"}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go j.Consume(cctx, c, journal.ConsumeOptions{})
	waitFor(t, 30*time.Second, "an append after the sink delivered", func() bool {
		_, err := j.Append(ctx, bigBatch())
		return err == nil
	})
}
