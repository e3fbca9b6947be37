package cloudwatch

import "github.com/drainpipe/drainpipe"

// groupWork is one Write's lines for one log group, by stream.
type groupWork struct {
	name    string
	streams map[string][]event
	apps    map[string]bool
}

// sortOut names the group and stream of every line and formats its events, keeping
// the order the lines arrived in.
func (s *Sink) sortOut(entries []drainpipe.Entry) []*groupWork {
	var (
		work      []*groupWork
		byName    = map[string]*groupWork{}
		overrides = map[string]template{}
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
				name := GroupName(s.groupTemplate(r.Drain, overrides).expand(&r))
				w := byName[name]
				if w == nil {
					w = &groupWork{name: name, streams: map[string][]event{}, apps: map[string]bool{}}
					byName[name] = w
					work = append(work, w)
				}
				w.apps[r.App] = true
				stream := StreamName(s.streamTmpl.expand(&r))
				ts := eventTime(&r).UnixMilli()
				for j, msg := range s.format(&r, maxEventBytes) {
					w.streams[stream] = append(w.streams[stream], event{ts: ts, msg: msg, app: r.App, ord: ord, line: j == 0})
					ord++
				}
			}
		}
	}
	return work
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
