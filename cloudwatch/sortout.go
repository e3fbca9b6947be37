package cloudwatch

import (
	"time"

	"github.com/drainpipe/drainpipe"
)

// groupWork is one Write's lines for one log group, by stream.
type groupWork struct {
	name    string
	streams map[string][]event
	apps    map[string]bool
	// drain is the drain of the group's first line, whose budget creating the
	// group spends when overflow is set: the group the lines go to instead when
	// the budget is spent ("" for a group that is no sender's choice).
	drain, overflow string
	// spilled holds the lines that are to go to overflow.
	spilled []parkRecord
}

// sortOut names the group and stream of every line and formats its events, keeping
// the order the lines arrived in.
func (s *Sink) sortOut(entries []drainpipe.Entry) []*groupWork {
	var (
		work      []*groupWork
		byName    = map[string]*groupWork{}
		overrides = map[string]template{}
		names     = map[nameKey][3]string{} // group, stream and overflow group of each kind of line
		ord       int
	)
	for _, e := range entries {
		for _, b := range e.Batches {
			for i := range b.Records {
				r := b.Records[i]
				if r.App == "" {
					r.App = b.App
				}
				if r.Drain == "" {
					r.Drain = b.Drain
				}
				ts := eventTime(&r)
				key := nameKey{r.Drain, r.App, r.Source, r.Dyno, utcDay(ts)}
				n, ok := names[key]
				if !ok {
					t := s.groupTemplate(r.Drain, overrides)
					n = [3]string{GroupName(t.expand(&r)), StreamName(s.streamTmpl.expand(&r)), t.overflow(&r)}
					if n[2] == n[0] || s.cfg.NewGroupsPerMinute < 0 {
						n[2] = ""
					}
					names[key] = n
				}
				name, stream := n[0], n[1]
				w := byName[name]
				if w == nil {
					w = &groupWork{name: name, streams: map[string][]event{}, apps: map[string]bool{}, drain: r.Drain, overflow: n[2]}
					byName[name] = w
					work = append(work, w)
				}
				w.apps[r.App] = true
				ms := ts.UnixMilli()
				for j, msg := range s.format(&r, maxEventBytes) {
					w.streams[stream] = append(w.streams[stream], event{ts: ms, msg: msg, app: r.App, ord: ord, line: j == 0})
					ord++
				}
			}
		}
	}
	return work
}

// nameKey is everything a line's group and stream names depend on: the
// placeholders' values, and the UTC day for {date}.
type nameKey struct {
	drain, app, source, dyno string
	day                      int64
}

// groupTemplate is the group template for a drain: its override, or the default.
func (s *Sink) groupTemplate(drain string, cache map[string]template) template {
	if s.cfg.Drains == nil {
		return s.groupTmpl
	}
	if t, ok := cache[drain]; ok {
		return t
	}
	t := s.groupTmpl
	if d, ok := s.cfg.Drains.Drain(drain); ok && d.CloudWatchGroup != "" {
		t = parseTemplateLenient(d.CloudWatchGroup)
	}
	cache[drain] = t
	return t
}

// utcDay numbers the UTC day of t, counting from the epoch, rounding down.
func utcDay(t time.Time) int64 {
	secs := t.Unix()
	day := secs / 86400
	if secs%86400 < 0 {
		day--
	}
	return day
}
