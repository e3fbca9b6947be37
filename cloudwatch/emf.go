package cloudwatch

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/drainpipe/drainpipe"
)

// EMFStream is the log stream, in each app's group, that holds its metrics as
// Embedded Metric Format documents (CloudWatch turns them into metrics).
const EMFStream = "drainpipe-metrics"

// PutEMF writes EMF documents into app's log group (named by the group template,
// as its lines are), stream EMFStream, each event stamped with its document's
// _aws.Timestamp. Documents are sent as they are: EMF needs the event to be the
// JSON object alone. Transient faults are retried until ctx ends; a permanent
// error is returned (metrics are derived data, the lines are safe elsewhere).
func (s *Sink) PutEMF(ctx context.Context, app string, docs [][]byte) error {
	now := time.Now()
	r := drainpipe.Record{App: app, Source: "drainpipe", Dyno: "metrics", Time: now}
	g := s.group(GroupName(s.groupTmpl.expand(&r)))
	g.touch(map[string]bool{app: true}, now)
	evs := make([]event, 0, len(docs))
	for i, doc := range docs {
		var head struct {
			AWS struct {
				Timestamp int64 `json:"Timestamp"`
			} `json:"_aws"`
		}
		ts := now.UnixMilli()
		if json.Unmarshal(doc, &head) == nil && head.AWS.Timestamp > 0 {
			ts = head.AWS.Timestamp
		}
		if len(doc) == 0 || len(doc) > maxEventBytes {
			return fmt.Errorf("EMF document %d: %d bytes, want 1 to %d", i, len(doc), maxEventBytes)
		}
		evs = append(evs, event{ts: ts, msg: string(doc), app: app, ord: i, line: true})
	}
	d := newDelivery(map[string][]event{EMFStream: evs})
	if err := s.deliver(ctx, g, d); err != nil {
		return fmt.Errorf("put EMF for %s: %w", app, err)
	}
	return nil
}
