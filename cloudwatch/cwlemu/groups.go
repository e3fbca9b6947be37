package cwlemu

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

const maxTags = 50

// retentionDays are the values PutRetentionPolicy accepts, in the order its error lists them.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

type groupName struct {
	LogGroupName string `json:"logGroupName"`
}

func (g groupName) targetGroup() string { return g.LogGroupName }

type createLogGroupInput struct {
	groupName
	KmsKeyID      string            `json:"kmsKeyId"`
	Tags          map[string]string `json:"tags"`
	LogGroupClass string            `json:"logGroupClass"`
}

func (s *Server) createLogGroup(c *call, in *createLogGroupInput) (any, *apiError) {
	var v violations
	checkGroupName(&v, in.LogGroupName, "logGroupName")
	checkTags(&v, in.Tags)
	class := in.LogGroupClass
	if class == "" {
		class = "STANDARD"
	}
	if class != "STANDARD" && class != "INFREQUENT_ACCESS" {
		v.add(class, "logGroupClass", "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS]")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if strings.HasPrefix(in.LogGroupName, reservedGroupStart) {
		return nil, invalidParameter("Log group names can't start with the string aws/")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups[in.LogGroupName] != nil {
		return nil, clientError("ResourceAlreadyExistsException", "The specified log group already exists")
	}
	if s.groupQuota > 0 && len(s.groups) >= s.groupQuota {
		return nil, limitExceeded()
	}
	s.groups[in.LogGroupName] = &group{
		name:     in.LogGroupName,
		region:   c.region,
		created:  s.now().UnixMilli(),
		kmsKeyID: in.KmsKeyID,
		class:    class,
		tags:     maps.Clone(in.Tags),
		streams:  map[string]*stream{},
	}
	return nil, nil
}

// checkTags applies the model's limits on a tag map: at most 50 tags, keys of
// 1..128 characters, values of at most 256.
func checkTags(v *violations, tags map[string]string) {
	if len(tags) > maxTags {
		v.add(fmt.Sprintf("{%d tags}", len(tags)), "tags", fmt.Sprintf("Member must have length less than or equal to %d", maxTags))
		return
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		if checkLength(v, k, "tags.key", 1, 128) {
			continue
		}
		checkLength(v, tags[k], "tags."+k+".member", 0, 256)
	}
}

type putRetentionPolicyInput struct {
	groupName
	RetentionInDays *int `json:"retentionInDays"`
}

func (s *Server) putRetentionPolicy(_ *call, in *putRetentionPolicyInput) (any, *apiError) {
	var v violations
	checkGroupName(&v, in.LogGroupName, "logGroupName")
	switch {
	case in.RetentionInDays == nil:
		v.addNull("retentionInDays")
	case !slices.Contains(retentionDays, *in.RetentionInDays):
		v.add(strconv.Itoa(*in.RetentionInDays), "retentionInDays", "Member must satisfy enum value set: "+retentionSet())
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	g, aerr := s.lockGroup(in.LogGroupName)
	if aerr != nil {
		return nil, aerr
	}
	defer s.mu.Unlock()
	g.retention = *in.RetentionInDays
	return nil, nil
}

func retentionSet() string {
	parts := make([]string, len(retentionDays))
	for i, d := range retentionDays {
		parts[i] = strconv.Itoa(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (s *Server) deleteRetentionPolicy(_ *call, in *groupName) (any, *apiError) {
	return nil, s.withGroup(in.LogGroupName, func(g *group) *apiError {
		g.retention = 0
		return nil
	})
}

type tagLogGroupInput struct {
	groupName
	Tags map[string]string `json:"tags"`
}

func (s *Server) tagLogGroup(_ *call, in *tagLogGroupInput) (any, *apiError) {
	return nil, s.withGroup(in.LogGroupName, func(g *group) *apiError { return addTags(g, in.Tags) })
}

type tagResourceInput struct {
	ResourceArn string            `json:"resourceArn"`
	Tags        map[string]string `json:"tags"`
}

func (t tagResourceInput) targetGroup() string { return groupFromIdentifier(t.ResourceArn) }

func (s *Server) tagResource(_ *call, in *tagResourceInput) (any, *apiError) {
	if !strings.HasPrefix(in.ResourceArn, "arn:") || !strings.Contains(in.ResourceArn, ":log-group:") {
		return nil, invalidParameter("Invalid resource ARN: " + in.ResourceArn)
	}
	name := groupFromIdentifier(in.ResourceArn)
	err := s.withGroup(name, func(g *group) *apiError { return addTags(g, in.Tags) })
	if err != nil && err.code == "ResourceNotFoundException" {
		return nil, clientError("ResourceNotFoundException", "The specified resource does not exist.")
	}
	return nil, err
}

// addTags merges tags into the group's, refusing to go past 50 in all.
func addTags(g *group, tags map[string]string) *apiError {
	var v violations
	checkTags(&v, tags)
	if err := v.err(); err != nil {
		return err
	}
	merged := maps.Clone(g.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	if len(merged) > maxTags {
		return clientError("TooManyTagsException", fmt.Sprintf("A resource can have no more than %d tags.", maxTags))
	}
	g.tags = merged
	return nil
}

func (s *Server) deleteLogGroup(_ *call, in *groupName) (any, *apiError) {
	var v violations
	checkGroupName(&v, in.LogGroupName, "logGroupName")
	if err := v.err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups[in.LogGroupName] == nil {
		return nil, groupNotFound()
	}
	delete(s.groups, in.LogGroupName)
	return nil, nil
}

// withGroup validates the name and runs f on the group under the lock.
func (s *Server) withGroup(name string, f func(g *group) *apiError) *apiError {
	var v violations
	checkGroupName(&v, name, "logGroupName")
	if err := v.err(); err != nil {
		return err
	}
	g, aerr := s.lockGroup(name)
	if aerr != nil {
		return aerr
	}
	defer s.mu.Unlock()
	return f(g)
}
