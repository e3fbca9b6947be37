package httpd

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/logsql"
)

// followBatch is how many stored lines one look at the archive reads for a follower.
const followBatch = 1000

// lines serves `tail --follow`: the lines stored after the line with id after,
// by id, that match the request's q, source and dyno, waiting (long poll) up to
// `wait` for the first of them, so following needs no busy polling. The answer's
// after is where the next request starts: past the lines read, also those that
// did not match.
func (s *Server) lines(w http.ResponseWriter, r *http.Request) {
	if !s.knownApp(w, r) {
		return
	}
	after, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	if err != nil && r.URL.Query().Get("after") != "" {
		writeError(w, http.StatusBadRequest, "after: want a line id")
		return
	}
	wait := 25 * time.Second
	if v := r.URL.Query().Get("wait"); v != "" {
		if wait, err = time.ParseDuration(v); err != nil || wait < 0 || wait > 5*time.Minute {
			writeError(w, http.StatusBadRequest, "wait: want a duration up to 5m")
			return
		}
	}
	match, err := s.followFilter(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	app := r.PathValue("app")
	deadline := time.Now().Add(wait)
	out := api.Lines{Lines: []api.Line{}}
	for {
		lines, err := s.cfg.Archive.After(r.Context(), app, after, followBatch)
		if err != nil {
			s.readError(w, err)
			return
		}
		for _, l := range lines {
			if match == nil || match.MatchRow(rowOf(&l)) {
				out.Lines = append(out.Lines, apiLine(&l))
			}
			after = l.ID
		}
		out.After = after
		if len(out.Lines) > 0 || len(lines) == followBatch || !time.Now().Before(deadline) || !s.waitForLines(r, after, deadline) {
			writeJSON(w, http.StatusOK, out)
			return
		}
	}
}

// followFilter is the filter of a follower's q, source and dyno; nil when the
// request has none.
func (s *Server) followFilter(r *http.Request) (*logstorage.Filter, error) {
	v := r.URL.Query()
	sr := logsql.Search{Text: v.Get("q"), Source: v.Get("source"), Dyno: v.Get("dyno")}
	if sr == (logsql.Search{}) {
		return nil, nil
	}
	f, err := sr.Filter(s.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("following takes filters only: %w", err)
	}
	return f, nil
}

// waitForLines blocks until a line with an id above after is committed, or the
// deadline, or the server begins to shut down (then it returns false: answer
// now). The archive wakes on any app's line, so when other apps are busy this
// paces the caller's re-check instead of spinning.
func (s *Server) waitForLines(r *http.Request, after int64, deadline time.Time) bool {
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()
	shutdown := draining(r.Context())
	defer context.AfterFunc(shutdown, cancel)() // the server is shutting down: answer now
	if err := s.cfg.Archive.Wait(ctx, after); err != nil {
		return false
	}
	t := time.NewTimer(200 * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return r.Context().Err() == nil && shutdown.Err() == nil
}

// rowOf is l as the fields a LogsQL filter matches: the line's own, its
// message's logfmt fields and its attributes, under their stored names.
func rowOf(l *archive.Line) []logstorage.Field {
	row := []logstorage.Field{
		{Name: archive.FieldMessage, Value: l.Message},
		{Name: archive.FieldTime, Value: l.Time.UTC().Format(time.RFC3339Nano)},
		{Name: archive.FieldID, Value: strconv.FormatInt(l.ID, 10)},
		{Name: archive.FieldApp, Value: l.App},
		{Name: archive.FieldSource, Value: l.Source},
		{Name: archive.FieldDyno, Value: l.Dyno},
		{Name: archive.FieldDrain, Value: l.Drain},
		{Name: archive.FieldHost, Value: l.Host},
		{Name: archive.FieldMsgID, Value: l.MsgID},
		{Name: archive.FieldStructuredData, Value: l.StructuredData},
		{Name: archive.FieldPriority, Value: strconv.Itoa(l.Priority)},
	}
	if l.Malformed {
		row = append(row, logstorage.Field{Name: archive.FieldMalformed, Value: "1"})
	}
	for _, f := range l.Fields {
		row = append(row, logstorage.Field{Name: f.Key, Value: f.Value})
	}
	for _, a := range l.Attrs {
		row = append(row, logstorage.Field{Name: a.Key, Value: a.Value})
	}
	return row
}

// apiLine is l as the admin API shows it.
func apiLine(l *archive.Line) api.Line {
	return api.Line{
		ID: l.ID, Time: l.Time, Received: l.Received, Drain: l.Drain, App: l.App,
		Source: l.Source, Dyno: l.Dyno, Host: l.Host, Priority: l.Priority, MsgID: l.MsgID,
		StructuredData: l.StructuredData, Message: l.Message, Malformed: l.Malformed, Part: l.Part,
	}
}
