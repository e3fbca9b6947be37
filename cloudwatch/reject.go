package cloudwatch

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"golang.org/x/time/rate"
)

// rejectedReasons reads PutLogEvents' rejectedLogEventsInfo for a batch: the reason
// each refused event was refused, "" for the events that were stored. Indexes
// outside the batch are clamped, so a wrong answer cannot hide a rejection.
func rejectedReasons(n int, info *types.RejectedLogEventsInfo) func(i int) string {
	if info == nil {
		return func(int) string { return "" }
	}
	index := func(p *int32, def int) int {
		if p == nil {
			return def
		}
		return min(max(int(*p), 0), n)
	}
	tooNew := index(info.TooNewLogEventStartIndex, n)
	tooOld := index(info.TooOldLogEventEndIndex, 0)
	expired := index(info.ExpiredLogEventEndIndex, 0)
	return func(i int) string {
		switch {
		case i >= tooNew:
			return reasonTooNew
		case i < tooOld:
			return reasonTooOld
		case i < expired:
			return reasonExpired
		}
		return ""
	}
}

// rejectLog sums up rejected lines in a log record at most once per interval,
// so a backlog of old lines does not flood the log.
type rejectLog struct {
	log   *slog.Logger
	limit *rate.Limiter
	hint  string // where the refused lines can be found

	mu             sync.Mutex
	counts         map[string]int
	apps           map[string]bool
	oldest, newest int64
}

func newRejectLog(log *slog.Logger, every time.Duration, hint string) *rejectLog {
	return &rejectLog{log: log, limit: rate.NewLimiter(rate.Every(every), 1), hint: hint, counts: map[string]int{}, apps: map[string]bool{}}
}

// rejectHint tells where refused lines are kept: the local archive, or with
// Inline (no archive) the log itself, where each was written whole.
func rejectHint(inline bool) string {
	if inline {
		return "cloudwatch refused lines; each is in this log, whole, as \"cloudwatch refused a line\""
	}
	return "cloudwatch refused lines; they stay in the local archive: drainpipe search APP --since TIME"
}

// add records one rejected line.
func (l *rejectLog) add(reason, app string, ts int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[reason]++
	if len(l.apps) < 10 && !l.apps[app] {
		l.apps[strings.Clone(app)] = true // not a slice of the journal message: see group.touch
	}
	if l.oldest == 0 || ts < l.oldest {
		l.oldest = ts
	}
	l.newest = max(l.newest, ts)
}

// flush logs the lines recorded since the last summary, if it is time to (or
// always, with force).
// flush logs the summary, with ctx (on Lambda: the invocation's request id).
func (l *rejectLog) flush(ctx context.Context, force bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.counts) == 0 || !force && !l.limit.Allow() {
		return
	}
	attrs := []any{
		"too_old", l.counts[reasonTooOld], "too_new", l.counts[reasonTooNew],
		"expired", l.counts[reasonExpired], "invalid", l.counts[reasonInvalid],
		"apps", slices.Sorted(maps.Keys(l.apps)),
		"oldest", time.UnixMilli(l.oldest).UTC(), "newest", time.UnixMilli(l.newest).UTC(),
	}
	l.log.WarnContext(ctx, l.hint, attrs...)
	clear(l.counts)
	clear(l.apps)
	l.oldest, l.newest = 0, 0
}
