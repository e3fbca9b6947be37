package cloudwatch

import (
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// errOverBudget stops the delivery of a group its drain may not create now; its
// lines go to the drain's overflow group instead.
var errOverBudget = errors.New("the drain may create no more log groups now")

// groupBudget is how many log groups one drain's lines may still have created
// (Config.NewGroupsPerMinute), and what its overflow has not yet logged.
type groupBudget struct {
	lim *rate.Limiter

	mu       sync.Mutex
	lastLog  time.Time
	unlogged int // lines sent to the overflow group since the last log line
}

// budget returns the group creation budget of a drain, making it if need be.
func (s *Sink) budget(drain string) *groupBudget {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.budgets[drain]
	if !ok {
		n := s.cfg.NewGroupsPerMinute
		b = &groupBudget{lim: rate.NewLimiter(rate.Every(time.Minute/time.Duration(n)), n)}
		s.budgets[drain] = b
	}
	return b
}

// overflowWork gathers the lines the groups of a Write spilled into the work of
// their overflow groups, counting and logging them.
func (s *Sink) overflowWork(work []*groupWork) []*groupWork {
	var (
		out    []*groupWork
		byName = map[string]*groupWork{}
		ord    int
	)
	for _, w := range work {
		if len(w.spilled) == 0 {
			continue
		}
		o := byName[w.overflow]
		if o == nil {
			o = &groupWork{name: w.overflow, streams: map[string][]event{}, apps: map[string]bool{}, drain: w.drain}
			byName[w.overflow] = o
			out = append(out, o)
		}
		ord = appendEvents(o.streams, w.spilled, ord)
		lines := 0
		for _, r := range w.spilled {
			o.apps[r.App] = true
			if r.Line {
				lines++
			}
		}
		s.metrics.overflow.Add(float64(lines))
		s.logOverflow(w, lines)
	}
	return out
}

// logOverflow logs, at most once a minute per drain, that its lines went to its
// overflow group.
func (s *Sink) logOverflow(w *groupWork, lines int) {
	b := s.budget(w.drain)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.unlogged += lines
	if now := time.Now(); now.Sub(b.lastLog) >= time.Minute {
		s.log.Warn("cloudwatch: a drain's lines name more new log groups than it may create; the rest go to its overflow group",
			"drain", w.drain, "group", w.name, "overflow_group", w.overflow, "lines", b.unlogged,
			"groups_per_minute", s.cfg.NewGroupsPerMinute)
		b.lastLog, b.unlogged = now, 0
	}
}

// appendEvents adds records to streams as events, numbered in their order from
// ord, and returns the number after the last.
func appendEvents(streams map[string][]event, recs []parkRecord, ord int) int {
	for _, r := range recs {
		streams[r.Stream] = append(streams[r.Stream], event{ts: r.TS, msg: r.Msg, app: r.App, ord: ord, line: r.Line})
		ord++
	}
	return ord
}
