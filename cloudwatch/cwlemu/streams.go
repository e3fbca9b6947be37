package cwlemu

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

const maxDescribeLimit = 50

type streamName struct {
	groupName
	LogStreamName string `json:"logStreamName"`
}

func (s *Server) createLogStream(_ *call, in *streamName) (any, *apiError) {
	return nil, s.withStream(in, func(g *group) *apiError {
		if g.streams[in.LogStreamName] != nil {
			return clientError("ResourceAlreadyExistsException", "The specified log stream already exists")
		}
		g.streams[in.LogStreamName] = &stream{name: in.LogStreamName, created: s.now().UnixMilli()}
		return nil
	})
}

func (s *Server) deleteLogStream(_ *call, in *streamName) (any, *apiError) {
	return nil, s.withStream(in, func(g *group) *apiError {
		if g.streams[in.LogStreamName] == nil {
			return streamNotFound()
		}
		delete(g.streams, in.LogStreamName)
		return nil
	})
}

// withStream validates both names and runs f on the group under the lock.
func (s *Server) withStream(in *streamName, f func(g *group) *apiError) *apiError {
	var v violations
	checkGroupName(&v, in.LogGroupName, "logGroupName")
	checkStreamName(&v, in.LogStreamName, "logStreamName")
	if err := v.err(); err != nil {
		return err
	}
	g, aerr := s.lockGroup(in.LogGroupName)
	if aerr != nil {
		return aerr
	}
	defer s.mu.Unlock()
	return f(g)
}

// groupRef names a group by logGroupName or logGroupIdentifier (name or ARN), as
// the read operations accept.
type groupRef struct {
	LogGroupName       string `json:"logGroupName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
}

func (r groupRef) targetGroup() string {
	if r.LogGroupName != "" {
		return r.LogGroupName
	}
	return groupFromIdentifier(r.LogGroupIdentifier)
}

// resolve checks the reference and returns the group's name.
func (r groupRef) resolve(v *violations) (string, *apiError) {
	if r.LogGroupName != "" && r.LogGroupIdentifier != "" {
		return "", invalidParameter("LogGroup name and LogGroup identifier are mutually exclusive parameters.")
	}
	if r.LogGroupName == "" && r.LogGroupIdentifier == "" {
		return "", invalidParameter("Should provide either name or identifier.")
	}
	name := r.targetGroup()
	checkGroupName(v, name, "logGroupName")
	return name, nil
}

type describeLogStreamsInput struct {
	groupRef
	LogStreamNamePrefix string `json:"logStreamNamePrefix"`
	OrderBy             string `json:"orderBy"`
	Descending          bool   `json:"descending"`
	NextToken           string `json:"nextToken"`
	Limit               *int32 `json:"limit"`
}

type logStreamOutput struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp *int64 `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  *int64 `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   *int64 `json:"lastIngestionTime,omitempty"`
	Arn                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"`
}

type describeLogStreamsOutput struct {
	LogStreams []logStreamOutput `json:"logStreams"`
	NextToken  string            `json:"nextToken,omitempty"`
}

func (s *Server) describeLogStreams(_ *call, in *describeLogStreamsInput) (any, *apiError) {
	var v violations
	name, aerr := in.resolve(&v)
	if aerr != nil {
		return nil, aerr
	}
	if in.LogStreamNamePrefix != "" {
		checkStreamName(&v, in.LogStreamNamePrefix, "logStreamNamePrefix")
	}
	checkLimit(&v, in.Limit, maxDescribeLimit)
	if in.OrderBy != "" && in.OrderBy != "LogStreamName" && in.OrderBy != "LastEventTime" {
		v.add(in.OrderBy, "orderBy", "Member must satisfy enum value set: [LogStreamName, LastEventTime]")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if in.OrderBy == "LastEventTime" && in.LogStreamNamePrefix != "" {
		return nil, invalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	g, start, aerr := s.lockPage(name, in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	defer s.mu.Unlock()
	all := sortedStreams(g, in.LogStreamNamePrefix, in.OrderBy == "LastEventTime", in.Descending)
	page, next := pageOf(all, start, limitOr(in.Limit, maxDescribeLimit))
	out := &describeLogStreamsOutput{LogStreams: make([]logStreamOutput, 0, len(page)), NextToken: next}
	for _, st := range page {
		out.LogStreams = append(out.LogStreams, describeStream(g, st))
	}
	return out, nil
}

// sortedStreams lists the group's streams with the prefix, by name or by last event time.
func sortedStreams(g *group, prefix string, byTime, descending bool) []*stream {
	var all []*stream
	for _, name := range slices.Sorted(maps.Keys(g.streams)) {
		if strings.HasPrefix(name, prefix) {
			all = append(all, g.streams[name])
		}
	}
	if byTime {
		slices.SortStableFunc(all, func(a, b *stream) int { return cmp.Compare(a.lastEvent, b.lastEvent) })
	}
	if descending {
		slices.Reverse(all)
	}
	return all
}

func describeStream(g *group, st *stream) logStreamOutput {
	out := logStreamOutput{
		LogStreamName: st.name,
		CreationTime:  st.created,
		Arn:           g.logGroupArn() + ":log-stream:" + st.name,
		StoredBytes:   st.storedBytes,
	}
	if len(st.events) > 0 {
		first, last, ingest := st.firstEvent, st.lastEvent, st.lastIngest
		out.FirstEventTimestamp, out.LastEventTimestamp, out.LastIngestionTime = &first, &last, &ingest
	}
	return out
}
