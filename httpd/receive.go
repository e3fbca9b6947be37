package httpd

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/herokulog"
	"github.com/drainpipe/drainpipe/logplex"
)

// receive is the drain endpoint. It does the least work that makes a batch safe:
// authenticate, read, parse, append to the journal, answer. Logplex drops a batch
// for good on a 4xx, so 4xx is only for what retrying cannot mend (credentials,
// size, encoding); anything that may pass later is a 503.
func (s *Server) receive(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.refuse(w, http.StatusMethodNotAllowed, "drain endpoint: use POST")
		return
	}
	drain, ok := s.authenticate(r)
	if !ok {
		s.unauthenticated(w)
		return
	}
	if code, msg := checkContentType(r.Header.Get("Content-Type")); code != 0 {
		s.refuse(w, code, msg)
		return
	}
	body, done, code, err := s.readBodyWithin(w, r)
	defer done()
	if err != nil {
		s.reject(w, code, err.Error())
		return
	}
	b, stats := s.parse(r, drain, body)
	if len(b.Records) > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.AppendTimeout)
		dup, err := s.cfg.Journal.Append(ctx, b)
		cancel()
		if err != nil {
			s.unavailable(w, r, err)
			return
		}
		s.metrics.accepted(drain.App, b, stats, dup)
	}
	s.metrics.requests.WithLabelValues("204").Inc()
	w.WriteHeader(http.StatusNoContent)
}

// authenticate finds the drain from HTTP Basic (the password is the secret; logplex
// turns the drain URL's userinfo into it) or `Authorization: Bearer <secret>`
// (log-shuttle). With Basic, a user name that is not the drain's own id is refused,
// so a URL cannot be half-right.
func (s *Server) authenticate(r *http.Request) (drainpipe.Drain, bool) {
	if user, pass, ok := r.BasicAuth(); ok {
		d, ok := s.cfg.Drains.Authenticate(pass)
		if !ok || (user != d.ID && user != "token" && user != "") {
			return drainpipe.Drain{}, false
		}
		return d, true
	}
	if secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return s.cfg.Drains.Authenticate(strings.TrimSpace(secret))
	}
	return drainpipe.Drain{}, false
}

// unauthenticated answers credentials that name no drain: 401, which logplex takes
// as final, unless the drain store lost drains it had (see package drains), when
// the credentials may be good ones the store forgot: then 503, which it retries.
// Either way the body is not read.
func (s *Server) unauthenticated(w http.ResponseWriter) {
	if err := s.cfg.Drains.Health(); err != nil {
		w.Header().Set("Retry-After", "60")
		s.refuse(w, http.StatusServiceUnavailable, "the drain store is unavailable; retry later")
		return
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="drainpipe"`)
	s.refuse(w, http.StatusUnauthorized, "missing or wrong drain credentials")
}

// checkContentType accepts the logplex media types, and a missing one (be liberal:
// every header is optional for some sender).
func checkContentType(ct string) (int, string) {
	if ct == "" {
		return 0, ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return http.StatusUnsupportedMediaType, fmt.Sprintf("content type %q does not parse", ct)
	}
	switch mt {
	case "application/logplex-1", "application/x-logplex-1", "text/plain", "application/octet-stream":
		return 0, ""
	}
	return http.StatusUnsupportedMediaType, fmt.Sprintf("content type %q: send application/logplex-1", mt)
}

// readBody reads the whole body into h's buffer, decompressing gzip, refusing more
// than MaxBody bytes after decompression (so a gzip bomb costs at most MaxBody).
// The buffer grows only as the budget of bodies in flight allows.
func (s *Server) readBody(r *http.Request, h *heldBody) ([]byte, int, error) {
	buf := (*h.buf)[:0]
	var src io.Reader = http.MaxBytesReader(nil, r.Body, s.cfg.MaxBody)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		gz, err := gzip.NewReader(src)
		if err != nil {
			return buf, http.StatusBadRequest, fmt.Errorf("gzip body does not decompress: %v", err)
		}
		defer gz.Close()
		src = gz
	default:
		return buf, http.StatusUnsupportedMediaType, fmt.Errorf("content encoding %q: send gzip or none", enc)
	}
	limited := io.LimitReader(src, s.cfg.MaxBody+1)
	for {
		if len(buf) == cap(buf) {
			var err error
			if buf, err = h.grow(buf, s.cfg.MaxBody+1); err != nil {
				return buf, http.StatusServiceUnavailable, errBusy
			}
		}
		n, err := limited.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > s.cfg.MaxBody {
			return buf, http.StatusRequestEntityTooLarge, fmt.Errorf("body larger than %d bytes", s.cfg.MaxBody)
		}
		if err == io.EOF {
			return buf, 0, nil
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return buf, http.StatusRequestEntityTooLarge, fmt.Errorf("body larger than %d bytes", s.cfg.MaxBody)
			}
			if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) && r.Header.Get("Content-Encoding") != "" {
				return buf, http.StatusBadRequest, fmt.Errorf("gzip body is corrupt: %v", err)
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return buf, http.StatusRequestTimeout, fmt.Errorf("body not received within %v", s.cfg.BodyTimeout)
			}
			// The sender went away mid-body: nothing is stored and nobody reads the answer.
			return buf, http.StatusBadRequest, fmt.Errorf("read body: %v", err)
		}
	}
}

// parse turns the body into a batch. Which fields a message has depends on the
// sender: logplex (Logplex-Frame-Id, User-Agent Logplex/...) sends no
// STRUCTURED-DATA; log-shuttle and the others send "- -".
func (s *Server) parse(r *http.Request, d drainpipe.Drain, body []byte) (*drainpipe.Batch, logplex.Stats) {
	frameID := r.Header.Get("Logplex-Frame-Id")
	fromLogplex := frameID != "" || strings.HasPrefix(r.Header.Get("User-Agent"), "Logplex/")
	now := s.cfg.Now().UTC()
	var text string
	if s.cfg.ParseInPlace {
		// The body buffer outlives the batch: it goes back to the pool after Append.
		text = unsafe.String(unsafe.SliceData(body), len(body))
	} else {
		text = string(body)
	}
	recs, stats := logplex.AppendRecordsString(make([]drainpipe.Record, 0, expectedFrames(r, body)), text,
		logplex.Options{Received: now, StructuredData: !fromLogplex})
	for i := range recs {
		recs[i].Drain, recs[i].App = d.ID, d.App
	}
	key := frameID
	if key == "" {
		key = r.Header.Get("X-Request-Id")
	}
	s.metrics.bytes.Add(float64(len(body)))
	if want := r.Header.Get("Logplex-Msg-Count"); want != "" {
		if n, err := strconv.Atoi(want); err == nil && n != len(recs) {
			// Counted, never fatal: Vector rejects such batches and logplex drops them for good.
			s.metrics.countMismatch.Inc()
			s.log.Debug("Logplex-Msg-Count differs from the frames parsed", "drain", d.ID, "header", n, "parsed", len(recs))
		}
	}
	// The sender's own loss report travels with the batch; the sinks count it with
	// the batch's L10/L12/L13 lines, once (herokulog.BatchLoss).
	return &drainpipe.Batch{Drain: d.ID, App: d.App, Key: batchKey(key), Received: now, Records: recs,
		Dropped: herokulog.DropHeaders(r.Header)}, stats
}

// expectedFrames sizes the records of a body from its Logplex-Msg-Count, so they
// are allocated once instead of grown by doubling; a header that promises more
// frames than the body could hold (a frame takes at least ~20 bytes) is not
// believed.
func expectedFrames(r *http.Request, body []byte) int {
	n, err := strconv.Atoi(r.Header.Get("Logplex-Msg-Count"))
	if err != nil || n < 0 {
		return 0
	}
	return min(n, len(body)/20+1)
}

// batchKey keeps a sender's batch id only if it is a sane token, so a hostile
// header cannot bloat the journal or the de-duplication memory.
func batchKey(k string) string {
	if len(k) == 0 || len(k) > 128 {
		return ""
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' {
			return ""
		}
	}
	return k
}

// unavailable answers a journal failure with 503, which logplex retries.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Retry-After", "1")
	store := s.cfg.StoreName
	switch {
	case errors.Is(err, drainpipe.ErrJournalFull):
		s.reject(w, http.StatusServiceUnavailable, store+" full: the sinks are behind; retry later")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		s.reject(w, http.StatusServiceUnavailable, store+" too slow to answer in time; retry")
	default:
		// With the request's context: on Lambda, the record then carries the
		// invocation's request id.
		s.log.WarnContext(r.Context(), store+" append failed", "err", err)
		s.reject(w, http.StatusServiceUnavailable, store+" unavailable; retry")
	}
}

// readBodyWithin reads a drain request's body. Only an authenticated sender may
// make us wait for a body, and not forever: a body that does not come within
// Config.BodyTimeout is answered 408 and its connection closed. The body's buffer
// counts against MaxBodyInFlight: when the bodies in flight leave no room for
// BodyWait, the request is answered 503 with Retry-After (and its connection
// closed). done gives the buffer back; call it once the body is no longer used,
// whatever the error.
func (s *Server) readBodyWithin(w http.ResponseWriter, r *http.Request) (body []byte, done func(), code int, err error) {
	want := int64(initialBuf)
	if r.ContentLength > 0 && r.Header.Get("Content-Encoding") == "" {
		want = min(r.ContentLength, s.cfg.MaxBody) + 1 // room to see the end
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.BodyWait)
	defer cancel()
	h, err := s.takeBuffer(ctx, want)
	if err != nil {
		s.busy(w)
		return nil, func() {}, http.StatusServiceUnavailable, errBusy
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout))
	body, code, err = s.readBody(r, h)
	_ = rc.SetReadDeadline(time.Time{}) // the body is in: the wait for the journal has its own bound
	switch code {
	case http.StatusRequestTimeout:
		dropBody(w)
	case http.StatusServiceUnavailable:
		s.busy(w)
	}
	return body, func() { h.done(body) }, code, err
}

// errBusy answers a request for which the bodies in flight left no room in time.
var errBusy = errors.New("server busy: too many request bodies in flight; retry")

// busy prepares the answer to a request that found no room for its body: retry
// in a second, on a new connection (what is left of the body is not read).
func (s *Server) busy(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "1")
	dropBody(w)
}

// refuse is reject for a request whose body is not waited for: the answer is sent
// at once instead of after a body that may never come (a client holding
// connections open with a Content-Length and no body, say), and the connection is
// closed after it (see dropBody).
func (s *Server) refuse(w http.ResponseWriter, code int, msg string) {
	dropBody(w)
	s.reject(w, code, msg)
}

// dropBody makes the server close the connection after the answer instead of
// waiting for the request's body: net/http otherwise reads up to 256 KiB of it,
// with no deadline, before closing or reusing the connection. What of the body
// arrives within refuseDrain after the answer is still read and thrown away (up
// to those 256 KiB): a sender still sending when it is answered then reads the
// answer, instead of a connection reset under its feet (logplex would retry a
// batch it should drop; a user would see "broken pipe", not "401").
func dropBody(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(refuseDrain))
}

// refuseDrain bounds how long a refused request's connection is kept for the rest
// of its body: all a sender holding its body back costs.
const refuseDrain = time.Second

// reject answers an error with a plain-text sentence and counts it.
func (s *Server) reject(w http.ResponseWriter, code int, msg string) {
	s.metrics.requests.WithLabelValues(strconv.Itoa(code)).Inc()
	http.Error(w, msg, code)
}
