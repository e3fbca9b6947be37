package main

import (
	"context"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/httpd"
	"github.com/drainpipe/drainpipe/journal"
)

// sinkStatus gives `drains list` a sink's status: its lag and last failed Write
// from the journal, and what the sink itself says, when it says something:
// per-app notes (CloudWatch's parked groups) and its last failed call (CloudWatch
// retries its calls inside Write, so the journal never sees those fail).
type sinkStatus struct {
	sink drainpipe.Sink
	j    *journal.Journal
}

var _ httpd.StatusReporter = sinkStatus{}

func newSinkStatus(s drainpipe.Sink, j *journal.Journal) sinkStatus { return sinkStatus{sink: s, j: j} }

func (s sinkStatus) Name() string { return s.sink.Name() }

func (s sinkStatus) Status(ctx context.Context) httpd.SinkStatus {
	var st httpd.SinkStatus
	if js, err := s.j.SinkStatus(ctx, s.sink.Name()); err != nil {
		st.LastError, st.LastErrorAt = "status unknown: "+err.Error(), time.Now()
	} else {
		st.Lag, st.LastError, st.LastErrorAt = js.Lag, js.LastError, js.LastErrorAt
	}
	if r, ok := s.sink.(interface{ Status() map[string]string }); ok {
		st.Apps = r.Status()
	}
	if r, ok := s.sink.(interface{ LastError() (string, time.Time) }); ok {
		if msg, at := r.LastError(); msg != "" && at.After(st.LastErrorAt) {
			st.LastError, st.LastErrorAt = msg, at
		}
	}
	return st
}
