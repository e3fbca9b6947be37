package cwlemu

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

const (
	maxReadLimit = 10_000
	// maxReadBytes caps one page of events, as the service caps a response at 1 MB.
	maxReadBytes = 1_048_576
)

type getLogEventsInput struct {
	groupRef
	LogStreamName string `json:"logStreamName"`
	StartTime     *int64 `json:"startTime"`
	EndTime       *int64 `json:"endTime"`
	NextToken     string `json:"nextToken"`
	Limit         *int32 `json:"limit"`
	StartFromHead *bool  `json:"startFromHead"`
}

type outputEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

type getLogEventsOutput struct {
	Events            []outputEvent `json:"events"`
	NextForwardToken  string        `json:"nextForwardToken"`
	NextBackwardToken string        `json:"nextBackwardToken"`
}

// getLogEvents pages through one stream's events in timestamp order. Tokens are
// positions: "f/N" reads forward from event N, "b/N" backward from before it. At
// the end of the stream the forward token sent comes back unchanged.
func (s *Server) getLogEvents(_ *call, in *getLogEventsInput) (any, *apiError) {
	var v violations
	name, aerr := in.resolve(&v)
	if aerr != nil {
		return nil, aerr
	}
	checkStreamName(&v, in.LogStreamName, "logStreamName")
	checkLimit(&v, in.Limit, maxReadLimit)
	if err := v.err(); err != nil {
		return nil, err
	}
	_, st, aerr := s.lockStream(name, in.LogStreamName)
	if aerr != nil {
		return nil, aerr
	}
	defer s.mu.Unlock()
	evs := inTimeOrder(st.events, in.StartTime, in.EndTime, false)
	forward, pos, aerr := readPosition(in.NextToken, in.StartFromHead, len(evs))
	if aerr != nil {
		return nil, aerr
	}
	limit := limitOr(in.Limit, maxReadLimit)
	from, to := pos, pos
	if forward {
		to = pos + fit(len(evs)-pos, limit, func(i int) int { return len(evs[pos+i].msg) })
	} else {
		from = pos - fit(pos, limit, func(i int) int { return len(evs[pos-1-i].msg) })
	}
	out := &getLogEventsOutput{
		Events:            make([]outputEvent, 0, to-from),
		NextForwardToken:  fmt.Sprintf("f/%056d", to),
		NextBackwardToken: fmt.Sprintf("b/%056d", from),
	}
	for _, e := range evs[from:to] {
		out.Events = append(out.Events, outputEvent{Timestamp: e.ts, Message: e.msg, IngestionTime: e.ingest})
	}
	return out, nil
}

// readPosition decodes a GetLogEvents token into a direction and a position in
// [0, n]; with no token it is the head (startFromHead) or the tail.
func readPosition(tok string, fromHead *bool, n int) (forward bool, pos int, err *apiError) {
	if tok == "" {
		if fromHead != nil && *fromHead {
			return true, 0, nil
		}
		return false, n, nil
	}
	dir, digits, ok := strings.Cut(tok, "/")
	var p int
	if _, serr := fmt.Sscanf(digits, "%d", &p); !ok || serr != nil || p < 0 || (dir != "f" && dir != "b") {
		return false, 0, invalidNextToken()
	}
	return dir == "f", min(p, n), nil
}

// inTimeOrder returns the events with startTime <= timestamp, and timestamp below
// endTime (or at most endTime when endInclusive), sorted by timestamp, ties kept in
// stored order.
func inTimeOrder(evs []event, start, end *int64, endInclusive bool) []event {
	out := make([]event, 0, len(evs))
	for _, e := range evs {
		if start != nil && e.ts < *start {
			continue
		}
		if end != nil && (e.ts > *end || (!endInclusive && e.ts == *end)) {
			continue
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b event) int { return cmp.Compare(a.ts, b.ts) })
	return out
}

// fit is how many of n events, taken in order, make one page: at most limit
// events and 1 MB, counting 26 bytes per event as PutLogEvents does. size gives
// the message bytes of the i-th event taken.
func fit(n, limit int, size func(i int) int) int {
	total := 0
	for i := range n {
		total += size(i) + eventOverhead
		if i == limit || (total > maxReadBytes && i > 0) {
			return i
		}
	}
	return min(n, limit)
}

type filterLogEventsInput struct {
	groupRef
	LogStreamNames      []string `json:"logStreamNames"`
	LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	FilterPattern       string   `json:"filterPattern"`
	NextToken           string   `json:"nextToken"`
	Limit               *int32   `json:"limit"`
}

type filteredEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

type filterLogEventsOutput struct {
	Events    []filteredEvent `json:"events"`
	NextToken string          `json:"nextToken,omitempty"`
}

// filterLogEvents searches a group's streams. The pattern is a case-sensitive
// substring (surrounding double quotes removed), not the service's pattern syntax.
func (s *Server) filterLogEvents(_ *call, in *filterLogEventsInput) (any, *apiError) {
	var v violations
	name, aerr := in.resolve(&v)
	if aerr != nil {
		return nil, aerr
	}
	if len(in.LogStreamNames) > 100 {
		v.add(fmt.Sprint(in.LogStreamNames), "logStreamNames", "Member must have length less than or equal to 100")
	}
	checkLimit(&v, in.Limit, maxReadLimit)
	if err := v.err(); err != nil {
		return nil, err
	}
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != "" {
		return nil, invalidParameter("You cannot specify both logStreamNames and logStreamNamePrefix.")
	}
	g, start, aerr := s.lockPage(name, in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	defer s.mu.Unlock()
	all := in.search(g)
	if start >= len(all) {
		return &filterLogEventsOutput{Events: []filteredEvent{}}, nil
	}
	n := fit(len(all)-start, limitOr(in.Limit, maxReadLimit), func(i int) int { return len(all[start+i].Message) })
	out := &filterLogEventsOutput{Events: all[start : start+n]}
	if end := start + len(out.Events); end < len(all) {
		out.NextToken = encodeOffset(end)
	}
	return out, nil
}

// search returns the matching events of the selected streams in timestamp order.
func (in *filterLogEventsInput) search(g *group) []filteredEvent {
	pattern := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(in.FilterPattern), `"`), `"`)
	var out []filteredEvent
	for _, name := range slices.Sorted(maps.Keys(g.streams)) {
		if !in.selects(name) {
			continue
		}
		for _, e := range inTimeOrder(g.streams[name].events, in.StartTime, in.EndTime, true) {
			if strings.Contains(e.msg, pattern) {
				out = append(out, filteredEvent{LogStreamName: name, Timestamp: e.ts, Message: e.msg, IngestionTime: e.ingest, EventID: e.id})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b filteredEvent) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
	return out
}

func (in *filterLogEventsInput) selects(stream string) bool {
	if len(in.LogStreamNames) > 0 {
		return slices.Contains(in.LogStreamNames, stream)
	}
	return strings.HasPrefix(stream, in.LogStreamNamePrefix)
}
