package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/drainpipe/drainpipe/api"
)

const (
	// heartbeat is the longest a stream stays silent: proxies and browsers keep a
	// connection that speaks at least this often.
	heartbeat = 15 * time.Second
	// maxStreams caps the live streams open at once.
	maxStreams = 100
	// backfillMax is how many of the newest matching lines a new stream shows first.
	backfillMax = 200
)

// streamLine is one line as the live tail's events carry it.
type streamLine struct {
	ID        int64     `json:"id"`
	App       string    `json:"app"`
	Time      time.Time `json:"time"`
	Received  time.Time `json:"received"`
	Source    string    `json:"source"`
	Dyno      string    `json:"dyno"`
	Priority  int       `json:"priority"`
	Message   string    `json:"message"`
	Malformed bool      `json:"malformed,omitempty"`
}

// streamStats is the "stats" event: the rate of lines that match the filters, and
// whether the stream is sending a sample of them.
type streamStats struct {
	// Rate is the lines per second that matched, Shown those sent, in the last second.
	Rate    int  `json:"rate"`
	Shown   int  `json:"shown"`
	Sampled bool `json:"sampled"`
	Limit   int  `json:"limit"`
}

// stream serves the live tail as Server-Sent Events: one event per line, its id
// the line's id, so a browser that reconnects sends Last-Event-ID and resumes
// after the last line it got, with nothing lost or repeated. The filters are the
// archive's (q in the search language, source, dyno), applied by the admin API's
// follow endpoint. Lines the filters or the sampler leave out still move the id
// on (an event with an id and no data).
//
//	GET /ui/stream?app=APP&source=&dyno=&q=      (Last-Event-ID: resume after it)
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	app := q.Get("app")
	if app == "" {
		writeJSONError(w, http.StatusBadRequest, "app: name the app to tail")
		return
	}
	after, resume, err := lastEventID(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	if h.openStreams.Add(1) > maxStreams {
		h.openStreams.Add(-1)
		writeJSONError(w, http.StatusServiceUnavailable, "too many live tails are open; close some")
		return
	}
	defer h.openStreams.Add(-1)
	h.metrics.streams.Inc()
	defer h.metrics.streams.Dec()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(h.stop, cancel)()
	_, cookie := h.sessionOf(r)
	st := &tailStream{h: h, w: w, rc: http.NewResponseController(w), bw: bufio.NewWriterSize(w, 32<<10),
		search: api.Search{App: app, Query: q.Get("q"), Source: q.Get("source"), Dyno: q.Get("dyno")}, cookie: cookie,
		sampler: newSampler(h.cfg.TailRate)}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	st.run(ctx, after, resume)
}

// lastEventID reads where to resume: the Last-Event-ID header a reconnecting
// EventSource sends, else the after parameter. resume is false for a new stream,
// which starts with the newest lines.
func lastEventID(r *http.Request) (int64, bool, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("after")
	}
	if v == "" {
		return 0, false, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, false, errors.New("Last-Event-ID: want a line id")
	}
	return id, true, nil
}

type tailStream struct {
	h  *Handler
	w  http.ResponseWriter
	rc *http.ResponseController
	bw *bufio.Writer
	// search is the app and the filters (the archive's query language, source,
	// dyno): the admin API filters the lines, as `drainpipe tail --follow` does.
	search  api.Search
	cookie  string
	sampler *sampler
	// sentID is the id the browser holds as its last event id.
	sentID int64
}

func (st *tailStream) run(ctx context.Context, after int64, resume bool) {
	if !resume {
		var err error
		if after, err = st.backfill(ctx); err != nil {
			st.fail(err)
			return
		}
	}
	st.sentID = after
	st.stats()
	if st.flush() != nil {
		return
	}
	for ctx.Err() == nil {
		if !st.h.sessions.alive(st.cookie) {
			st.event("expired", "", `{"error":"your session ended: log in again"}`)
			_ = st.flush()
			return
		}
		st.h.sessions.get(st.cookie) // an open tail is a session in use
		lines, next, err := st.h.api.After(ctx, st.search, after, heartbeat)
		if err != nil {
			if ctx.Err() == nil {
				st.fail(err)
			}
			return
		}
		after = next
		if err := st.send(lines, next); err != nil {
			return
		}
	}
}

// backfill sends the newest lines that match, and returns the id to follow from:
// the newest line stored when the tail was read. The lines of the backfill are
// history in time order, not the stream: they carry no event id, so a stream cut
// in the middle of them starts again rather than resuming between them.
func (st *tailStream) backfill(ctx context.Context) (int64, error) {
	_ = st.rc.SetWriteDeadline(time.Now().Add(heartbeat))
	after, err := st.h.api.Tail(ctx, st.search, backfillMax, func(l api.Line) error {
		st.line(&l, false)
		return nil
	})
	if err != nil {
		return 0, err
	}
	if after > 0 {
		st.idOnly(after)
	}
	return after, st.flush()
}

// send writes the lines that pass the sampler, then a heartbeat, or the id the
// stream has read up to (past lines that did not match), so the browser's resume
// point moves on.
func (st *tailStream) send(lines []api.Line, next int64) error {
	// The buffer may spill into the connection before flush: give the writes
	// their deadline now, not the one the last flush set (the long poll may have
	// waited most of it).
	_ = st.rc.SetWriteDeadline(time.Now().Add(heartbeat))
	var sent, sampled float64
	for i := range lines {
		keep, closed := st.sampler.keep(st.h.cfg.Now())
		if closed {
			st.stats()
		}
		if !keep {
			sampled++
			continue
		}
		sent++
		st.line(&lines[i], true)
	}
	if st.sampler.roll(st.h.cfg.Now()) {
		st.stats()
	}
	st.h.metrics.lines.WithLabelValues("sent").Add(sent)
	st.h.metrics.lines.WithLabelValues("sampled").Add(sampled)
	switch {
	case next != st.sentID:
		st.idOnly(next)
	case len(lines) == 0:
		_, _ = st.bw.WriteString(": heartbeat\n\n")
	}
	return st.flush()
}

// line writes one line as an event; with id, the event's id is the line's.
func (st *tailStream) line(l *api.Line, id bool) {
	data, _ := json.Marshal(streamLine{ID: l.ID, App: l.App, Time: l.Time, Received: l.Received, Source: l.Source,
		Dyno: l.Dyno, Priority: l.Priority, Message: l.Message, Malformed: l.Malformed})
	if !id {
		st.event("", "", string(data))
		return
	}
	st.event("", strconv.FormatInt(l.ID, 10), string(data))
	st.sentID = l.ID
}

// idOnly moves the browser's last event id to id without an event: the spec sets
// the id when the blank line ends the block, and dispatches nothing without data.
func (st *tailStream) idOnly(id int64) {
	_, _ = st.bw.WriteString("id: " + strconv.FormatInt(id, 10) + "\n\n")
	st.sentID = id
}

func (st *tailStream) stats() {
	rate, shown, sampled := st.sampler.status()
	data, _ := json.Marshal(streamStats{Rate: rate, Shown: shown, Sampled: sampled, Limit: st.sampler.limit})
	st.event("stats", "", string(data))
}

// event writes one event. data is JSON: it holds no newline.
func (st *tailStream) event(name, id, data string) {
	if name != "" {
		_, _ = st.bw.WriteString("event: " + name + "\n")
	}
	if id != "" {
		_, _ = st.bw.WriteString("id: " + id + "\n")
	}
	_, _ = st.bw.WriteString("data: " + data + "\n\n")
}

// flush sends what is buffered, giving a stalled reader at most heartbeat to take
// it (a reader that takes nothing for that long is cut off).
func (st *tailStream) flush() error {
	_ = st.rc.SetWriteDeadline(time.Now().Add(heartbeat))
	if err := st.bw.Flush(); err != nil {
		return err
	}
	return st.rc.Flush()
}

// fail ends the stream with a "failure" event saying why. It is final when the
// request itself is wrong (a query the archive refuses): the page stops and
// shows it, rather than reconnecting to the same refusal.
func (st *tailStream) fail(err error) {
	var se *api.StatusError
	final := errors.As(err, &se) && se.Code >= 400 && se.Code < 500
	msg, _ := json.Marshal(map[string]any{"error": err.Error(), "final": final})
	st.event("failure", "", string(msg))
	_ = st.flush()
}
