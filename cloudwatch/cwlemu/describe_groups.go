package cwlemu

import (
	"maps"
	"slices"
	"strings"
)

type describeLogGroupsInput struct {
	LogGroupNamePrefix  string `json:"logGroupNamePrefix"`
	LogGroupNamePattern string `json:"logGroupNamePattern"`
	LogGroupClass       string `json:"logGroupClass"`
	NextToken           string `json:"nextToken"`
	Limit               *int32 `json:"limit"`
}

type logGroupOutput struct {
	LogGroupName    string `json:"logGroupName"`
	CreationTime    int64  `json:"creationTime"`
	RetentionInDays *int   `json:"retentionInDays,omitempty"`
	Arn             string `json:"arn"`
	LogGroupArn     string `json:"logGroupArn"`
	StoredBytes     int64  `json:"storedBytes"`
	KmsKeyID        string `json:"kmsKeyId,omitempty"`
	LogGroupClass   string `json:"logGroupClass"`
}

type describeLogGroupsOutput struct {
	LogGroups []logGroupOutput `json:"logGroups"`
	NextToken string           `json:"nextToken,omitempty"`
}

func (s *Server) describeLogGroups(_ *call, in *describeLogGroupsInput) (any, *apiError) {
	var v violations
	if in.LogGroupNamePrefix != "" {
		checkGroupName(&v, in.LogGroupNamePrefix, "logGroupNamePrefix")
	}
	checkLimit(&v, in.Limit, maxDescribeLimit)
	if err := v.err(); err != nil {
		return nil, err
	}
	if in.LogGroupNamePrefix != "" && in.LogGroupNamePattern != "" {
		return nil, invalidParameter("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	start, aerr := decodeOffset(in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*group
	for _, name := range slices.Sorted(maps.Keys(s.groups)) {
		g := s.groups[name]
		if in.matches(g) {
			all = append(all, g)
		}
	}
	page, next := pageOf(all, start, limitOr(in.Limit, maxDescribeLimit))
	out := &describeLogGroupsOutput{LogGroups: make([]logGroupOutput, 0, len(page)), NextToken: next}
	for _, g := range page {
		out.LogGroups = append(out.LogGroups, describeGroup(g))
	}
	return out, nil
}

// matches applies the prefix, the pattern (a case-insensitive substring) and the class.
func (in *describeLogGroupsInput) matches(g *group) bool {
	pattern := strings.ToLower(in.LogGroupNamePattern)
	return strings.HasPrefix(g.name, in.LogGroupNamePrefix) &&
		strings.Contains(strings.ToLower(g.name), pattern) &&
		(in.LogGroupClass == "" || in.LogGroupClass == g.class)
}

func describeGroup(g *group) logGroupOutput {
	out := logGroupOutput{
		LogGroupName:  g.name,
		CreationTime:  g.created,
		Arn:           g.arn(),
		LogGroupArn:   g.logGroupArn(),
		KmsKeyID:      g.kmsKeyID,
		LogGroupClass: g.class,
	}
	if g.retention > 0 {
		r := g.retention
		out.RetentionInDays = &r
	}
	for _, st := range g.streams {
		out.StoredBytes += st.storedBytes
	}
	return out
}
