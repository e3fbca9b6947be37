package main

import (
	"context"
	"fmt"
	"time"

	"github.com/drainpipe/drainpipe/httpd"
	"github.com/drainpipe/drainpipe/journal"
)

// lagStatus reports a journal sink's status for `drains list`: "ok" while it
// keeps up, else how far behind it is. The lag is the sink's, not per app: every
// app's lines wait in the same journal.
type lagStatus struct {
	name string
	j    *journal.Journal
	ds   *journal.Drains
}

var _ httpd.StatusReporter = lagStatus{}

// behindAfter is the lag past which a sink is reported behind rather than ok: a
// little more than one archive Write with its barrier takes under load, so
// that "ok" means the lines are stored, not that they will be within a minute.
const behindAfter = 5 * time.Second

func (l lagStatus) Name() string { return l.name }

func (l lagStatus) Status() map[string]string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	status := "ok"
	if lag, err := l.j.Lag(ctx, l.name); err != nil {
		status = "unknown: " + err.Error()
	} else if lag > behindAfter {
		status = fmt.Sprintf("behind %s", lag.Round(time.Second))
	}
	out := map[string]string{}
	for _, d := range l.ds.List() {
		out[d.App] = status
	}
	return out
}
