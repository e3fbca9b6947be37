package httpd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/archive/query"
	"github.com/drainpipe/drainpipe/logsql"
)

// Reader answers the line, histogram and facet endpoints; archive/query.Reader
// is one.
type Reader interface {
	Page(ctx context.Context, q *logstorage.Query, desc bool, cursor *query.Position, limit int, format query.Format, write func([]byte) error) (*query.Position, error)
	Export(ctx context.Context, q *logstorage.Query, format query.Format, write func([]byte) error) (int64, error)
	Tail(ctx context.Context, q *logstorage.Query, n int, format query.Format, write func([]byte) error) error
	Line(ctx context.Context, id int64) (api.Line, query.Position, error)
	Context(ctx context.Context, id int64, before, after int, format query.Format) (query.Context, error)
	Hits(ctx context.Context, q *logstorage.Query, start, end time.Time, step time.Duration, by string, top int) (api.Hits, error)
	Facets(ctx context.Context, q *logstorage.Query, fields []string, limit int) (api.Facets, error)
	Newest(ctx context.Context, q *logstorage.Query, k int, hidden []string, each func(query.Row) error) error
}

// Limits of the line endpoints: what one answer holds in the server's memory,
// and how long a bounded answer (a page, a line, a context, a summary) may take.
// Export and tail are streams as long as their lines: their writes have a
// deadline instead (see stream).
const (
	maxPage      = 10_000 // lines of a search page
	maxContext   = 10_000 // lines before, and after, a line
	queryTimeout = 30 * time.Second
	// maxExports is how many exports run at once: each reads the archive as
	// fast as its client takes the lines, for minutes, holding two windows (up
	// to 16 MiB); a script that starts a hundred must not take the memory.
	maxExports = 4
)

// bounded is the request's context with queryTimeout.
func bounded(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), queryTimeout)
}

// searchOf reads the search parameters of a request on /api/apps/{app}/...:
// q, source, dyno, since and until (see api.ParseTime).
func (s *Server) searchOf(r *http.Request) (logsql.Search, error) {
	v := r.URL.Query()
	now := s.cfg.Now()
	sr := logsql.Search{App: r.PathValue("app"), Text: v.Get("q"), Source: v.Get("source"), Dyno: v.Get("dyno")}
	var err error
	if sr.Since, err = api.Since(v.Get("since"), now); err != nil {
		return sr, fmt.Errorf("since: %w", err)
	}
	if sr.Until, err = api.Until(v.Get("until"), now); err != nil {
		return sr, fmt.Errorf("until: %w", err)
	}
	return sr, nil
}

// lineQuery reads a request's search and parses it; it answers 404 for an
// unknown app and 400 for a bad search, and returns nil then.
func (s *Server) lineQuery(w http.ResponseWriter, r *http.Request) *logstorage.Query {
	if !s.knownApp(w, r) {
		return nil
	}
	sr, err := s.searchOf(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return nil
	}
	q, err := sr.Query(s.cfg.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return nil
	}
	return q
}

// search serves a page of lines, newest first (order=oldest for oldest first),
// after the line of cursor: {"lines": [...], "next": "CURSOR"}.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := s.lineQuery(w, r)
	if q == nil {
		return
	}
	v := r.URL.Query()
	limit, err := intParam(r, "limit", 100)
	if err != nil || limit < 1 || limit > maxPage {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: want a number of lines from 1 to %d (page with next)", maxPage))
		return
	}
	var desc bool
	switch v.Get("order") {
	case "", "newest":
		desc = true
	case "oldest":
	default:
		writeError(w, http.StatusBadRequest, "order: want newest or oldest")
		return
	}
	var cursor *query.Position
	if c := v.Get("cursor"); c != "" {
		p, err := query.ParsePosition(c)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		cursor = &p
	}
	st := newStream(w, "application/json")
	lw := st.jsonList(`{"lines":[`)
	ctx, cancel := bounded(r)
	defer cancel()
	next, err := s.cfg.Reader.Page(ctx, q, desc, cursor, limit, api.AppendJSON, lw)
	if err != nil {
		s.streamError(st, err)
		return
	}
	end := `]}`
	if next != nil {
		end = `],"next":` + strconv.Quote(next.String()) + `}`
	}
	st.finish(end + "\n")
}

// tail serves the newest n lines, oldest first: {"lines": [...], "after": ID},
// streamed, so n may be any number; after is the newest line committed when the
// tail began, where `tail --follow` goes on from.
func (s *Server) tail(w http.ResponseWriter, r *http.Request) {
	q := s.lineQuery(w, r)
	if q == nil {
		return
	}
	n, err := intParam(r, "n", 100)
	if err != nil || n < 0 {
		writeError(w, http.StatusBadRequest, "n: want a number of lines, 0 or more")
		return
	}
	last := s.cfg.Archive.LastID()
	st := newStream(w, "application/json")
	lw := st.jsonList(`{"lines":[`)
	if err := s.cfg.Reader.Tail(r.Context(), q, n, api.AppendJSON, lw); err != nil {
		s.streamError(st, err)
		return
	}
	st.finish(`],"after":` + strconv.FormatInt(last, 10) + "}\n")
}

// export streams every line, oldest first: JSON objects one a line
// (format=json, the default) or text as `heroku logs` prints it (format=text).
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	q := s.lineQuery(w, r)
	if q == nil {
		return
	}
	format, ctype := query.Format(api.AppendJSON), "application/x-ndjson"
	switch r.URL.Query().Get("format") {
	case "", "json":
	case "text":
		format, ctype = api.AppendText, "text/plain; charset=utf-8"
	default:
		writeError(w, http.StatusBadRequest, "format: want json or text")
		return
	}
	st := newStream(w, ctype)
	if _, err := s.cfg.Reader.Export(r.Context(), q, format, st.write); err != nil {
		s.streamError(st, err)
		return
	}
	st.finish("")
}

// refuseExport answers an export past maxExports.
func refuseExport(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Retry-After", "10")
	writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("%d exports are running, the most drainpipe runs at once: try again when one ends", maxExports))
}

// lineOf reads the {id} of a request; it answers 400 and returns false when it
// is not a line id.
func lineOf(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "line id: want a number, not "+strconv.Quote(r.PathValue("id")))
		return 0, false
	}
	return id, true
}

// line serves one line by its id: the permalink.
func (s *Server) line(w http.ResponseWriter, r *http.Request) {
	id, ok := lineOf(w, r)
	if !ok {
		return
	}
	ctx, cancel := bounded(r)
	defer cancel()
	l, _, err := s.cfg.Reader.Line(ctx, id)
	if err != nil {
		s.readError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

// context serves a line and the lines before and after it in its app.
func (s *Server) context(w http.ResponseWriter, r *http.Request) {
	id, ok := lineOf(w, r)
	if !ok {
		return
	}
	before, err1 := intParam(r, "before", 20)
	after, err2 := intParam(r, "after", 20)
	if err1 != nil || err2 != nil || before < 0 || after < 0 || before > maxContext || after > maxContext {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("before, after: want a number of lines from 0 to %d", maxContext))
		return
	}
	ctx, cancel := bounded(r)
	defer cancel()
	c, err := s.cfg.Reader.Context(ctx, id, before, after, api.AppendJSON)
	if err != nil {
		s.readError(w, err)
		return
	}
	st := newStream(w, "application/json")
	b := append([]byte(`{"before":`), joinJSON(c.Before)...)
	b = append(b, `,"line":`...)
	b = append(b, c.Self...)
	b = append(b, `,"after":`...)
	b = append(b, joinJSON(c.After)...)
	_ = st.write(b)
	st.finish("}\n")
}

// joinJSON makes a JSON array of JSON objects.
func joinJSON(objs [][]byte) []byte {
	b := []byte{'['}
	for i, o := range objs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, o...)
	}
	return append(b, ']')
}

// readError answers a failed read before anything was written: 404 for a line
// that does not exist, 400 for a bad query or one too big for the engine's
// memory budget, 500 otherwise.
func (s *Server) readError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, drainpipe.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error()+": it does not exist, or retention removed it")
	case errors.Is(err, logsql.ErrBadQuery):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("the archive did not answer within %s: narrow the search (--since, --dyno, a rarer word)", queryTimeout))
	case archive.IsOverBudget(err):
		// The engine keeps a query's sorts and groups within a memory budget:
		// the asker's to narrow, not a fault of the server.
		writeError(w, http.StatusBadRequest, "the search needs more memory than a query may use: narrow it (--since, --dyno, fewer or smaller groups): "+err.Error())
	case errors.Is(err, context.Canceled):
		// the client went away
	default:
		s.log.Error("archive query failed", "err", err)
		writeError(w, http.StatusInternalServerError, "archive query failed: "+err.Error())
	}
}

// streamError ends a stream that failed: with an error answer when nothing was
// sent yet, else by cutting the connection, so that the client sees a broken
// answer rather than a short one that looks whole.
func (s *Server) streamError(st *stream, err error) {
	if !st.started {
		s.readError(st.w, err)
		return
	}
	if !errors.Is(err, context.Canceled) {
		s.log.Error("archive stream failed", "err", err)
	}
	panic(http.ErrAbortHandler)
}
