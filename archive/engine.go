package archive

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/logger"
)

// DefaultCacheBytes is the memory VictoriaLogs' caches may use when
// Config.CacheBytes is zero: small enough for drainpipe's whole process to stay
// within 256 MB, large enough that in-memory parts are not flushed in tiny pieces.
const DefaultCacheBytes = 64 << 20

var (
	setupOnce sync.Once
	// engineLog receives VictoriaLogs' own log lines: the logger of the first
	// archive opened (its logger is global to the process, like its flags).
	engineLog atomic.Pointer[slog.Logger]
)

// setupEngine gives VictoriaLogs' packages what they expect from a program of
// their own, once per process: they read process-wide flags (registered on
// flag.CommandLine when they are imported) and panic unless flag.Parse ran, so
// an empty command line is parsed for them if no one parsed one; their caches
// are sized from -memory.allowedBytes, read on first use, so the first Open's
// CacheBytes holds for the whole process; and their log lines are passed on to
// slog at WARN and above (INFO lines report routine merges and snapshots).
//
// The archive's files are read with pread (-fs.disableMmap), not mapped: mapped,
// every page a search touches counts in the process's resident memory until
// the kernel takes it back, and a rare word over 10M lines reads ~117 MB of
// bloom filters: the process peaked at 297 MiB over 10M lines, 246 MiB read.
// Read, the pages stay in the page cache, where they are easier for the kernel
// to reclaim than mapped ones, and resident memory shows drainpipe's own. The
// cost is a copy per read: the rare word over 10M lines took 70 ms instead of
// 45 (docs/benchmarks.md, "Reading the archive's files").
func setupEngine(cacheBytes int64, log *slog.Logger) error {
	var err error
	setupOnce.Do(func() {
		engineLog.Store(log)
		if !flag.Parsed() {
			err = flag.CommandLine.Parse(nil)
		}
		for name, value := range map[string]string{
			"memory.allowedBytes": strconv.FormatInt(cacheBytes, 10),
			"loggerLevel":         "WARN",
			"fs.disableMmap":      "true",
		} {
			if err == nil {
				err = flag.Set(name, value)
			}
		}
		logger.SetOutputForTests(engineWriter{})
	})
	return err
}

// engineWriter turns VictoriaLogs' log lines ("time\tlevel\tcaller\tmessage")
// into slog records.
type engineWriter struct{}

func (engineWriter) Write(p []byte) (int, error) {
	log := engineLog.Load()
	if log == nil {
		return len(p), nil
	}
	fields := bytes.SplitN(bytes.TrimRight(p, "\n"), []byte("\t"), 4)
	level, msg, caller := slog.LevelWarn, string(p), ""
	if len(fields) == 4 {
		msg, caller = string(fields[3]), string(fields[2])
		switch string(fields[1]) {
		case "info":
			level = slog.LevelInfo
		case "error", "fatal", "panic":
			level = slog.LevelError
		}
	}
	log.Log(context.Background(), level, msg, "engine", "victorialogs", "caller", caller)
	return len(p), nil
}
