package archive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/prometheus/client_golang/prometheus"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DefaultRetention is how long lines are kept when Config.Retention is zero.
const DefaultRetention = 30 * 24 * time.Hour

// DefaultPruneInterval is how often retention runs when Config.PruneInterval is zero.
const DefaultPruneInterval = time.Hour

// readers is the size of the read-only pool: enough for a few concurrent
// searches and followers on a small machine, without starving the writer.
const readers = 4

// Config configures an Archive.
type Config struct {
	// Path is the database file, e.g. <data>/archive.db. It is created if missing.
	Path string
	// Retention is how long lines are kept, by received time; zero means
	// DefaultRetention, a negative value keeps lines forever.
	Retention time.Duration
	// PruneInterval is how often retention runs in the background, starting at
	// Open; zero means hourly, a negative value runs none (call Prune yourself).
	PruneInterval time.Duration
	// Logger receives the retention loop's reports; nil discards them.
	Logger *slog.Logger
	// Registerer receives the archive's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Archive is the local searchable archive: a drainpipe.Sink that stores every
// line in SQLite, and the queries behind search, tail and drains list.
type Archive struct {
	path      string
	retention time.Duration
	interval  time.Duration
	log       *slog.Logger
	metrics   *metrics

	// mu serializes the writer: Write and each chunk of Prune.
	mu    sync.Mutex
	w     *sql.DB // one read-write connection
	stmts stmts
	r     *sql.DB // read-only pool, so searches never wait for the writer

	notify *notifier

	stop     context.CancelFunc
	loopDone chan struct{}
	closed   sync.Once
}

var _ drainpipe.Sink = (*Archive)(nil)

// Open opens (creating if needed) the archive at cfg.Path and starts its
// hourly retention loop, which Close stops.
func Open(ctx context.Context, cfg Config) (*Archive, error) {
	if cfg.Path == "" {
		return nil, errors.New("open archive: no path")
	}
	a := &Archive{
		path:      cfg.Path,
		retention: cfg.Retention,
		interval:  cfg.PruneInterval,
		log:       cfg.Logger,
		loopDone:  make(chan struct{}),
	}
	if a.retention == 0 {
		a.retention = DefaultRetention
	}
	if a.interval == 0 {
		a.interval = DefaultPruneInterval
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if err := a.openDBs(ctx); err != nil {
		return nil, fmt.Errorf("open archive %s: %w", cfg.Path, err)
	}
	last, err := a.lastID(ctx)
	if err != nil {
		a.closeDBs()
		return nil, fmt.Errorf("open archive %s: %w", cfg.Path, err)
	}
	a.notify = newNotifier(last)
	a.metrics = newMetrics(a.path)
	if err := a.metrics.register(cfg.Registerer); err != nil {
		a.closeDBs()
		return nil, fmt.Errorf("open archive %s: register metrics: %w", cfg.Path, err)
	}
	loopCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.stop = stop
	go a.pruneLoop(loopCtx)
	return a, nil
}

// openDBs opens the writer, creates or checks the schema, then opens the readers
// (a read-only connection cannot open a file that does not exist yet).
func (a *Archive) openDBs(ctx context.Context) error {
	abs, err := filepath.Abs(a.path)
	if err != nil {
		return err
	}
	a.w, err = sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return err
	}
	a.w.SetMaxOpenConns(1)
	a.w.SetMaxIdleConns(1)
	a.w.SetConnMaxIdleTime(0)
	a.w.SetConnMaxLifetime(0)
	if err := migrate(ctx, a.w); err != nil {
		a.w.Close()
		return err
	}
	if err := a.stmts.prepare(ctx, a.w); err != nil {
		a.w.Close()
		return err
	}
	a.r, err = sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		a.w.Close()
		return err
	}
	a.r.SetMaxOpenConns(readers)
	a.r.SetMaxIdleConns(readers)
	if err := a.r.PingContext(ctx); err != nil {
		a.closeDBs()
		return err
	}
	return nil
}

// synchronous is the writer's sync mode; a variable only so that a benchmark
// can measure what FULL costs (see the package doc).
var synchronous = "FULL"

// dsn builds the connection string. Both sides use WAL, so readers see the
// last commit and never block the writer. See the package doc for synchronous.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "synchronous("+synchronous+")")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "cache_size(-32000)")
	if readOnly {
		q.Set("mode", "ro")
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

func (a *Archive) lastID(ctx context.Context) (int64, error) {
	var last int64
	err := a.w.QueryRowContext(ctx, `SELECT last_id FROM state WHERE id = 1`).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("read state: %w", err)
	}
	return last, nil
}

// Name is the archive's durable consumer name on the journal.
func (a *Archive) Name() string { return "archive" }

// Close stops the retention loop and closes the database. Calls after the
// first return nil.
func (a *Archive) Close() error {
	var err error
	a.closed.Do(func() {
		a.stop()
		<-a.loopDone
		a.notify.close()
		a.mu.Lock()
		defer a.mu.Unlock()
		a.metrics.unregister()
		err = a.closeDBs()
	})
	return err
}

func (a *Archive) closeDBs() error {
	var errs []error
	if a.r != nil {
		errs = append(errs, a.r.Close())
	}
	if a.w != nil {
		errs = append(errs, a.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close archive: %w", err)
	}
	return nil
}
