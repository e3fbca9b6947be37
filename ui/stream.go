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
	// backfillScan is how many of the newest lines a new stream reads to find
	// the ones to show first; backfillMax is how many of those it sends.
	backfillScan = 1000
	backfillMax  = 200
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
// after the last line it got, with nothing lost or repeated. Lines the filters or
// the sampler leave out still move the id on (an event with an id and no data).
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
		app: app, cookie: cookie, filter: newLineFilter(q.Get("source"), q.Get("dyno"), q.Get("q")),
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
	h       *Handler
	w       http.ResponseWriter
	rc      *http.ResponseController
	bw      *bufio.Writer
	app     string
	cookie  string
	filter  lineFilter
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
			st.flush()
			return
		}
		st.h.sessions.get(st.cookie) // an open tail is a session in use
		lines, err := st.h.api.After(ctx, st.app, after, heartbeat)
		if err != nil {
			if ctx.Err() == nil {
				st.fail(err)
			}
			return
		}
		if len(lines) > 0 {
			after = lines[len(lines)-1].ID
		}
		if err := st.send(lines); err != nil {
			return
		}
	}
}

// backfill sends the newest lines that match, and returns the id to follow from.
func (st *tailStream) backfill(ctx context.Context) (int64, error) {
	_ = st.rc.SetWriteDeadline(time.Now().Add(heartbeat))
	lines, err := st.h.api.Tail(ctx, st.app, backfillScan)
	if err != nil || len(lines) == 0 {
		return 0, err
	}
	keep := lines[:0:0]
	for i := range lines {
		if st.filter.match(&lines[i]) {
			keep = append(keep, lines[i])
		}
	}
	if len(keep) > backfillMax {
		keep = keep[len(keep)-backfillMax:]
	}
	last := lines[len(lines)-1].ID
	for i := range keep {
		st.line(&keep[i])
	}
	st.idOnly(last)
	return last, st.flush()
}

// send writes the lines that pass the filters and the sampler, then a heartbeat
// or the id of the last line read, so the browser's resume point moves on.
func (st *tailStream) send(lines []api.Line) error {
	// The buffer may spill into the connection before flush: give the writes
	// their deadline now, not the one the last flush set (the long poll may have
	// waited most of it).
	_ = st.rc.SetWriteDeadline(time.Now().Add(heartbeat))
	var sent, filtered, sampled float64
	for i := range lines {
		l := &lines[i]
		if !st.filter.match(l) {
			filtered++
			continue
		}
		keep, closed := st.sampler.keep(st.h.cfg.Now())
		if closed {
			st.stats()
		}
		if !keep {
			sampled++
			continue
		}
		sent++
		st.line(l)
	}
	if st.sampler.roll(st.h.cfg.Now()) {
		st.stats()
	}
	st.h.metrics.lines.WithLabelValues("sent").Add(sent)
	st.h.metrics.lines.WithLabelValues("filtered").Add(filtered)
	st.h.metrics.lines.WithLabelValues("sampled").Add(sampled)
	switch {
	case len(lines) == 0:
		_, _ = st.bw.WriteString(": heartbeat\n\n")
	case lines[len(lines)-1].ID != st.sentID:
		st.idOnly(lines[len(lines)-1].ID)
	}
	return st.flush()
}

func (st *tailStream) line(l *api.Line) {
	data, _ := json.Marshal(streamLine{ID: l.ID, App: l.App, Time: l.Time, Received: l.Received, Source: l.Source,
		Dyno: l.Dyno, Priority: l.Priority, Message: l.Message, Malformed: l.Malformed})
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

func (st *tailStream) fail(err error) {
	msg, _ := json.Marshal(map[string]string{"error": err.Error()})
	st.event("failure", "", string(msg))
	_ = st.flush()
}
