package cwlemu

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// group is a stored log group.
type group struct {
	name      string
	region    string
	created   int64
	retention int // days; 0 means never expire
	kmsKeyID  string
	class     string
	tags      map[string]string
	streams   map[string]*stream
}

// arn is the group's ARN as DescribeLogGroups reports it in "arn".
func (g *group) arn() string { return g.logGroupArn() + ":*" }

// logGroupArn is the ARN without the trailing ":*", as TagResource takes it.
func (g *group) logGroupArn() string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", g.region, account, g.name)
}

// stream is a stored log stream.
type stream struct {
	name        string
	created     int64
	events      []event
	firstEvent  int64
	lastEvent   int64
	lastIngest  int64
	storedBytes int64
}

// event is a stored log event.
type event struct {
	ts     int64
	ingest int64
	msg    string
	id     string
}

// Event is a stored log event as Events reports it.
type Event struct {
	// Timestamp is the event's own time, in milliseconds since the Unix epoch.
	Timestamp int64
	// IngestionTime is when the service stored it, in milliseconds since the epoch.
	IngestionTime int64
	// Message is the event's message.
	Message string
}

// Group is a log group as Groups reports it.
type Group struct {
	// Name is the log group name.
	Name string
	// RetentionDays is the retention policy; 0 means none (events never expire).
	RetentionDays int
	// KMSKeyID is the kmsKeyId given at creation, empty when none.
	KMSKeyID string
	// Class is the log group class: STANDARD or INFREQUENT_ACCESS.
	Class string
	// Tags are the group's tags, never nil.
	Tags map[string]string
	// Streams are the names of the group's log streams, sorted, never nil.
	Streams []string
}

// Events returns the events stored in a stream, in the order they were stored;
// nil when the group or stream does not exist.
func (s *Server) Events(group, stream string) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[group]
	if g == nil || g.streams[stream] == nil {
		return nil
	}
	evs := g.streams[stream].events
	out := make([]Event, len(evs))
	for i, e := range evs {
		out[i] = Event{Timestamp: e.ts, IngestionTime: e.ingest, Message: e.msg}
	}
	return out
}

// Groups returns every log group, sorted by name.
func (s *Server) Groups() []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Group, 0, len(s.groups))
	for _, name := range slices.Sorted(maps.Keys(s.groups)) {
		g := s.groups[name]
		streams := slices.AppendSeq(make([]string, 0, len(g.streams)), maps.Keys(g.streams))
		slices.Sort(streams)
		tags := maps.Clone(g.tags)
		if tags == nil {
			tags = map[string]string{}
		}
		out = append(out, Group{
			Name:          g.name,
			RetentionDays: g.retention,
			KMSKeyID:      g.kmsKeyID,
			Class:         g.class,
			Tags:          tags,
			Streams:       streams,
		})
	}
	return out
}

// Calls returns how many requests each operation received, faults included: every
// request whose X-Amz-Target names a Logs operation counts, even one refused for its
// credentials or for naming an unknown operation.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls)
}

// DeleteGroup deletes a log group and its streams, as someone else might mid-run.
func (s *Server) DeleteGroup(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.groups, name)
}

// Reset forgets every group, call count, fault, failing group, rejected key and
// group quota, and restarts the fault randomness from the seed. A listener stays open.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups = map[string]*group{}
	s.calls = map[string]int{}
	s.faults = Faults{}
	s.rng = newRand(s.seed)
	s.failing = map[string]*apiError{}
	s.rejectKeys = map[string]bool{}
	s.groupQuota = 0
}

// nextID returns a fresh 56-digit number, the shape of the service's event ids and
// sequence tokens. Callers hold s.mu.
func (s *Server) nextID() string {
	s.counter++
	var b [56]byte
	for i := range b {
		b[i] = '0'
	}
	digits := strconv.AppendUint(nil, s.counter, 10)
	copy(b[len(b)-len(digits):], digits)
	return string(b[:])
}
