package cwlemu

import (
	"bytes"
	"encoding/json"
)

// handler answers one operation: a JSON-marshalable result (nil for none) or an error.
type handler func(s *Server, c *call) (any, *apiError)

// groupTarget is implemented by inputs that name a log group, so that FailGroup can
// answer for every operation touching that group.
type groupTarget interface {
	targetGroup() string
}

// operations are the supported operations by X-Amz-Target name.
var operations = map[string]handler{
	"PutLogEvents":          op((*Server).putLogEvents),
	"CreateLogGroup":        op((*Server).createLogGroup),
	"CreateLogStream":       op((*Server).createLogStream),
	"PutRetentionPolicy":    op((*Server).putRetentionPolicy),
	"DeleteRetentionPolicy": op((*Server).deleteRetentionPolicy),
	"TagResource":           op((*Server).tagResource),
	"TagLogGroup":           op((*Server).tagLogGroup),
	"DescribeLogGroups":     op((*Server).describeLogGroups),
	"DescribeLogStreams":    op((*Server).describeLogStreams),
	"GetLogEvents":          op((*Server).getLogEvents),
	"FilterLogEvents":       op((*Server).filterLogEvents),
	"DeleteLogGroup":        op((*Server).deleteLogGroup),
	"DeleteLogStream":       op((*Server).deleteLogStream),
}

// op adapts a typed operation: it decodes the JSON body into In and answers for a
// group marked by FailGroup before the operation runs.
func op[In any](f func(s *Server, c *call, in *In) (any, *apiError)) handler {
	return func(s *Server, c *call) (any, *apiError) {
		in := new(In)
		if len(bytes.TrimSpace(c.body)) > 0 {
			if err := json.Unmarshal(c.body, in); err != nil {
				return nil, serialization(err)
			}
		}
		if t, ok := any(in).(groupTarget); ok {
			if aerr := s.groupFailure(t.targetGroup()); aerr != nil {
				return nil, aerr
			}
		}
		return f(s, c, in)
	}
}
