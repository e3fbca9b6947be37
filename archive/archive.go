package archive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultRetention is how long lines are kept when Config.Retention is zero.
const DefaultRetention = 30 * 24 * time.Hour

// DefaultPruneInterval is how often retention runs when Config.PruneInterval is zero.
const DefaultPruneInterval = time.Hour

// DefaultMinFreeBytes is the free disk space under which Write waits (and the
// journal keeps the lines) rather than fill the disk.
const DefaultMinFreeBytes = 64 << 20

// Config configures an Archive.
type Config struct {
	// Dir holds the archive, e.g. <data>/archive. It is created (0700) if missing.
	Dir string
	// Retention is how long lines are kept, by the day of their _time (see the
	// package doc); zero means DefaultRetention, a negative value keeps lines forever.
	Retention time.Duration
	// MaxBytes caps the archive's disk use: past it, retention deletes the oldest
	// days first (never the newest two). Zero means no cap.
	MaxBytes int64
	// PruneInterval is how often retention runs in the background, starting at
	// Open; zero means hourly, a negative value runs none (call Prune yourself).
	PruneInterval time.Duration
	// Import is a SQLite archive (archive.db of drainpipe before this engine) to
	// import in the background after Open, once; it is only read. Empty imports nothing.
	Import string
	// CacheBytes bounds VictoriaLogs' caches; zero means DefaultCacheBytes. It is
	// process-wide: the first Open's value holds for the process.
	CacheBytes int64
	// MinFreeBytes is the free disk space under which Write fails (the journal
	// retries) instead of writing; zero means DefaultMinFreeBytes.
	MinFreeBytes int64
	// Logger receives the archive's reports; nil discards them.
	Logger *slog.Logger
	// Registerer receives the archive's metrics; nil registers none.
	Registerer prometheus.Registerer

	// importChunk is how many lines an import step takes; importChunk when zero.
	importChunk int
}

func (c *Config) setDefaults() {
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.PruneInterval == 0 {
		c.PruneInterval = DefaultPruneInterval
	}
	if c.CacheBytes == 0 {
		c.CacheBytes = DefaultCacheBytes
	}
	if c.MinFreeBytes == 0 {
		c.MinFreeBytes = DefaultMinFreeBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.importChunk == 0 {
		c.importChunk = importChunk
	}
}

// Archive is drainpipe's local archive: a drainpipe.Sink that stores every line
// in VictoriaLogs' storage engine, and the queries behind tail, search and
// drains list. See the package doc.
type Archive struct {
	cfg     Config
	log     *slog.Logger
	store   *store
	metrics *metrics
	vocab   *vocabulary
	notify  *notifier
	recent  *recentWrites

	// wmu serializes everything that adds or removes rows: Write, import
	// chunks and retention. state and recovery change only under it.
	wmu      sync.Mutex
	recovery *recovery
	// staged is what Writes added that waits for the barrier; nil when none.
	staged *staged
	// importPresent holds the old ids of an import step that a crash or an
	// error interrupted and that are stored already.
	importPresent map[int64]bool
	closed        bool

	// smu guards the state pointer for readers (Stats); the state it points to
	// is never changed, only replaced.
	smu   sync.RWMutex
	state *state

	stop    context.CancelFunc
	loops   sync.WaitGroup
	closing sync.Once
}

var _ drainpipe.Sink = (*Archive)(nil)

// Files in the archive's directory beside VictoriaLogs' own.
const (
	stateFile  = "state.json"
	fieldsFile = "fields.json"
	engineDir  = "engine"
)

// Open opens (creating if needed) the archive in cfg.Dir, settles what a
// crash left unfinished, and starts the retention loop and, if asked, the
// import; Close stops them.
func Open(ctx context.Context, cfg Config) (*Archive, error) {
	if cfg.Dir == "" {
		return nil, errors.New("open archive: no directory")
	}
	cfg.setDefaults()
	a := &Archive{cfg: cfg, log: cfg.Logger, recent: newRecentWrites()}
	if err := a.open(ctx); err != nil {
		return nil, fmt.Errorf("open archive %s: %w", cfg.Dir, err)
	}
	loopCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.stop = stop
	if cfg.PruneInterval > 0 {
		a.loops.Go(func() { a.pruneLoop(loopCtx) })
	}
	if cfg.Import != "" {
		a.loops.Go(func() { a.importLoop(loopCtx) })
	}
	return a, nil
}

func (a *Archive) open(ctx context.Context) error {
	if err := setupEngine(a.cfg.CacheBytes, a.log); err != nil {
		return fmt.Errorf("set up the storage engine: %w", err)
	}
	if err := prepareDir(a.cfg.Dir, a.log); err != nil {
		return err
	}
	st, err := loadState(a.path(stateFile))
	if err != nil {
		return err
	}
	if a.vocab, err = loadVocabulary(a.path(fieldsFile)); err != nil {
		return err
	}
	if err := finishDrops(a.cfg.Dir, st, a.log); err != nil {
		return err
	}
	a.metrics = newMetrics(a)
	if err := a.metrics.register(a.cfg.Registerer); err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	if a.store, err = openStore(a.path(engineDir), a.cfg.MinFreeBytes); err != nil {
		a.metrics.unregister()
		return err
	}
	a.state = st
	if err := errors.Join(a.reconcile(ctx), a.reserveLegacyIDs(ctx)); err != nil {
		a.metrics.unregister()
		a.store.close()
		return err
	}
	a.notify = newNotifier(a.state.LastID)
	return nil
}

// Name is the archive's durable consumer name on the journal.
func (a *Archive) Name() string { return "archive" }

// Close stops the retention loop and the import, waits for a Write in
// progress, makes what Writes staged durable, and closes the storage, which
// writes out everything in memory.
// Calls after the first return nil.
func (a *Archive) Close() error {
	a.closing.Do(func() {
		a.stop()
		a.loops.Wait()
		a.notify.close()
		a.wmu.Lock()
		defer a.wmu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
		if err := a.settle(ctx); err != nil {
			// Open reconciles the intent, and the journal delivers the entries again.
			a.log.Warn("archive rows not made durable before close", "err", err)
		}
		cancel()
		a.closed = true
		a.metrics.unregister()
		a.store.close()
	})
	return nil
}

// path is the path of a file in the archive's directory.
func (a *Archive) path(name string) string { return filepath.Join(a.cfg.Dir, name) }

// current returns the state as last saved.
func (a *Archive) current() *state {
	a.smu.RLock()
	defer a.smu.RUnlock()
	return a.state
}

// commit saves s and makes it the current state. The caller holds wmu.
func (a *Archive) commit(s *state) error {
	if err := saveState(a.path(stateFile), s); err != nil {
		return err
	}
	a.show(s)
	return nil
}

// show makes s the current state without saving it: what it changes needs no
// crash to survive it (the counts of staged rows).
func (a *Archive) show(s *state) {
	a.smu.Lock()
	a.state = s
	a.smu.Unlock()
}

// prepareDir creates the archive's directory 0700, or takes group and other
// permissions off an existing one and everything in it (VictoriaLogs creates
// its files with the process umask: drainpipe serve sets 077, an older or
// other program may not have), and warns when the directory above it lets
// others in.
func prepareDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if mode := fi.Mode().Perm(); mode&0o077 != 0 {
			return os.Chmod(path, mode&0o700)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("permissions: %w", err)
	}
	parent := filepath.Dir(dir)
	if fi, err := os.Stat(parent); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the data directory can be read by other users; make it 0700", "dir", parent, "mode", fi.Mode().Perm().String())
	}
	return nil
}
