package httpd

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// StatusReporter tells how one sink's delivery goes, for `drainpipe drains list`.
type StatusReporter interface {
	// Name is the sink's name ("archive", "cloudwatch").
	Name() string
	// Status reads the sink's status; ctx bounds the round trips it may take.
	Status(ctx context.Context) SinkStatus
}

// SinkStatus is how a sink's delivery goes.
type SinkStatus struct {
	// Lag is the age of the oldest line the sink has not delivered. The lag is the
	// sink's, not an app's: every app's lines wait in the same journal.
	Lag time.Duration
	// LastError is the sink's last failure, while it has not succeeded since, and
	// LastErrorAt when it happened.
	LastError   string
	LastErrorAt time.Time
	// Apps is what the sink says of some apps ("parked: AccessDeniedException: ..."),
	// shown first for those apps.
	Apps map[string]string
	// Node is the node that delivers (in a cluster; "" on one node): it is shown
	// after the status, "ok (node b)". With Parts, each part names its own.
	Node string
	// Parts, when set, are the statuses of a sink whose work is split by app over
	// the nodes of a cluster (the journal's partitions), and PartOf gives the part
	// of an app: an app is shown its part's status.
	Parts  []SinkStatus
	PartOf func(app string) int
}

// lagShown is the lag from which a status shows it: below it, a sink keeps up.
const lagShown = time.Second

// forApp is the status of app as `drains list` prints it: "ok", or what is wrong,
// such as "lag 36s; last error 5s ago: PutLogEvents: dial tcp ...: connection refused".
func (st SinkStatus) forApp(app string, now time.Time) string {
	if st.PartOf != nil {
		if p := st.PartOf(app); p >= 0 && p < len(st.Parts) {
			st = st.Parts[p]
		}
	}
	var parts []string
	if note := st.Apps[app]; note != "" && note != "ok" {
		parts = append(parts, note)
	}
	if st.Lag >= lagShown {
		parts = append(parts, "lag "+st.Lag.Round(time.Second).String())
	}
	if st.LastError != "" {
		ago := max(now.Sub(st.LastErrorAt), 0).Round(time.Second)
		parts = append(parts, fmt.Sprintf("last error %s ago: %s", ago, st.LastError))
	}
	out := strings.Join(parts, "; ")
	if len(parts) == 0 {
		out = "ok"
	}
	if st.Node != "" {
		out += " (node " + st.Node + ")"
	}
	return out
}
