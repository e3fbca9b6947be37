package archive

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
)

// nsPerDay is the width of a VictoriaLogs partition: one UTC day of _time.
const nsPerDay = int64(24 * time.Hour)

// dayName is the name VictoriaLogs gives the partition of day d (days since the epoch).
func dayName(d int64) string { return time.Unix(0, d*nsPerDay).UTC().Format("20060102") }

// store wraps the VictoriaLogs storage with what drainpipe needs of it beyond
// adding and searching rows: a point at which rows are on disk (barrier), and
// a gate that keeps readers out while a partition is briefly detached.
type store struct {
	st *logstorage.Storage
	// gate is held for reading by the queries followers use, and for writing
	// while retention detaches a day.
	gate sync.RWMutex
}

// engineRetention is the retention VictoriaLogs is told: a century, so that it
// never deletes a day itself. It deletes the days past its retention as it
// opens, before Prune could count their lines: after --retention was lowered,
// or the server was stopped for days, the counts (drains list) then held lines
// that were gone. Rows never need its check: the archive's window
// (newWindow) stamps a line older than the retention with the time it was
// received; Prune deletes the days, counting them.
const engineRetention = 100 * 365 * 24 * time.Hour

// openStore opens the storage in dir. VictoriaLogs panics when another process
// holds its lock file; that is turned into an error here, by trying the same
// lock first.
func openStore(dir string, minFree int64) (*store, error) {
	if err := tryLock(dir); err != nil {
		return nil, err
	}
	cfg := &logstorage.StorageConfig{
		Retention:             engineRetention,
		FutureRetention:       48 * time.Hour,
		FlushInterval:         time.Second,
		MinFreeDiskSpaceBytes: minFree,
		SnapshotsMaxAge:       time.Hour,
	}
	return &store{st: logstorage.MustOpenStorage(dir, cfg)}, nil
}

// tryLock takes and releases the lock VictoriaLogs takes on dir (an exclusive
// flock on dir/flock.lock), to fail with an error if another process has it.
func tryLock(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, "flock.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("the archive in %s is in use by another process: %w", dir, err)
	}
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// stats returns the storage's statistics.
func (s *store) stats() logstorage.StorageStats {
	var ss logstorage.StorageStats
	s.st.UpdateStats(&ss)
	return ss
}

// barrier returns once every row added before it is on disk: in file parts,
// fsynced and listed in their partition's parts.json, which is what survives a
// crash. VictoriaLogs has no call for that: it writes in-memory parts to disk
// within its flush interval, and a snapshot writes out the in-memory parts that
// no merge holds at that moment, of the rows and of the stream index. So the
// barrier takes a snapshot of each day written (and deletes it) until no
// in-memory part, pending row or pending index item is left; the caller adds
// no rows meanwhile.
//
// It used to detach and attach the days of a write that registered new
// streams, to be sure of their index entries too (the storage counts no
// in-memory index part); but a search running meanwhile silently missed those
// days, and once writes were settled a second after their rows became
// searchable, searches met it. What an in-memory index merge holds at the
// snapshot is written within the storage's flush interval; a crash inside it
// is the gap the package doc describes (stream filters only).
func (s *store) barrier(ctx context.Context, days map[int64]bool) error {
	for attempt := 0; ; attempt++ {
		for d := range days {
			for _, p := range s.st.PartitionSnapshotMustCreate(dayName(d)) {
				if err := s.st.PartitionSnapshotDelete(p); err != nil {
					return fmt.Errorf("delete snapshot: %w", err)
				}
			}
		}
		ss := s.stats()
		if ss.PendingRows == 0 && ss.InmemoryParts == 0 && ss.IndexdbPendingItems == 0 {
			return nil
		}
		if attempt == 20 {
			// Not a day this write touched? Write every partition out.
			days = map[int64]bool{}
			for _, name := range s.st.PartitionList() {
				if t, err := time.Parse("20060102", name); err == nil {
					days[t.UnixNano()/nsPerDay] = true
				}
			}
		}
		t := time.NewTimer(time.Duration(min(attempt+1, 20)) * 5 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("rows not on disk yet: %w", ctx.Err())
		case <-t.C:
		}
	}
}

func (s *store) close() { s.st.MustClose() }
