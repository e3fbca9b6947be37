package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/cluster"
	"github.com/drainpipe/drainpipe/httpd"
	"github.com/drainpipe/drainpipe/journal"
)

// `drains list` shows, per drain, each sink's status: its lag, read from the
// journal (any node can), and its last error and per-app notes (CloudWatch's
// parked groups), which only the node that delivers knows. In a cluster each
// node publishes those in its registry entry (nodeReport), so any node shows them
// for the node that owns an app's partition, and names that node.

// sinkReport is what a node says of one of its sinks.
type sinkReport struct {
	LastError   string            `json:"last_error,omitempty"`
	LastErrorAt time.Time         `json:"last_error_at,omitzero"`
	Apps        map[string]string `json:"apps,omitempty"`
}

// report is a node's registry report: its sinks' last errors and notes.
type report struct {
	Sinks map[string]sinkReport `json:"sinks,omitempty"`
}

// localReport is what this node knows of sink: the journal's last failed Write,
// and what the sink itself says (its last failed call, retried inside Write, and
// the apps it has something to say about).
func localReport(j *journal.Journal, s drainpipe.Sink) sinkReport {
	var r sinkReport
	r.LastError, r.LastErrorAt = j.LastWriteError(s.Name())
	if st, ok := s.(interface{ Status() map[string]string }); ok {
		for app, note := range st.Status() {
			if note != "ok" {
				if r.Apps == nil {
					r.Apps = map[string]string{}
				}
				r.Apps[app] = note
			}
		}
	}
	if le, ok := s.(interface{ LastError() (string, time.Time) }); ok {
		if msg, at := le.LastError(); msg != "" && at.After(r.LastErrorAt) {
			r.LastError, r.LastErrorAt = msg, at
		}
	}
	return r
}

// nodeReport makes this node's registry report.
func nodeReport(j *journal.Journal, ss *sinkSet) func() any {
	return func() any {
		r := report{Sinks: map[string]sinkReport{}}
		for _, s := range ss.all() {
			r.Sinks[s.Name()] = localReport(j, s)
		}
		return r
	}
}

// reporter is one sink's status for `drains list`.
type reporter struct {
	name   string
	status func(ctx context.Context) httpd.SinkStatus
}

var _ httpd.StatusReporter = reporter{}

func (r reporter) Name() string                                { return r.name }
func (r reporter) Status(ctx context.Context) httpd.SinkStatus { return r.status(ctx) }

// statusReporters are the sinks' statuses: the archive's is this node's replica;
// the others' are per partition, from the node that delivers it.
func statusReporters(j *journal.Journal, cl *cluster.Cluster, ss *sinkSet) []httpd.StatusReporter {
	self := cl.Self().Name
	named := func(node string) string {
		if !j.Shared() {
			return "" // one node: nothing to say
		}
		if node == "" {
			return "none now"
		}
		return node
	}
	out := []httpd.StatusReporter{reporter{name: archiveSink, status: func(ctx context.Context) httpd.SinkStatus {
		st := consumerStatus(ctx, j, j.ReplicaConsumer(archiveSink, self), localReport(j, ss.archive))
		st.Node = named(self)
		return st
	}}}
	for _, s := range ss.all()[1:] {
		out = append(out, reporter{name: s.Name(), status: func(ctx context.Context) httpd.SinkStatus {
			reports := remoteReports(cl)
			st := httpd.SinkStatus{PartOf: j.PartitionOf, Parts: make([]httpd.SinkStatus, j.Partitions())}
			for p := range st.Parts {
				owner, _ := cl.Owner(cluster.PartKey(s.Name(), p))
				rep := reports[owner].Sinks[s.Name()]
				if owner == self {
					rep = localReport(j, s)
				}
				st.Parts[p] = consumerStatus(ctx, j, journal.PartitionConsumer(s.Name(), p), rep)
				st.Parts[p].Node = named(owner)
			}
			return st
		}})
	}
	return out
}

// consumerStatus is a consumer's lag with what its node reported.
func consumerStatus(ctx context.Context, j *journal.Journal, consumer string, r sinkReport) httpd.SinkStatus {
	st := httpd.SinkStatus{LastError: r.LastError, LastErrorAt: r.LastErrorAt, Apps: r.Apps}
	lag, err := j.Lag(ctx, consumer)
	if err != nil {
		st.LastError, st.LastErrorAt = "status unknown: "+err.Error(), time.Now()
	}
	st.Lag = lag
	return st
}

// remoteReports are the other nodes' reports, by node.
func remoteReports(cl *cluster.Cluster) map[string]report {
	out := map[string]report{}
	for _, n := range cl.Nodes() {
		var r report
		if len(n.Report) > 0 && json.Unmarshal(n.Report, &r) == nil {
			out[n.Name] = r
		}
	}
	return out
}
