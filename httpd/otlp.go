package httpd

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/otlp"
)

// otlpLogs is POST /v1/logs: OpenTelemetry logs over OTLP/HTTP, as Heroku's Fir
// telemetry drains send them.
func (s *Server) otlpLogs(w http.ResponseWriter, r *http.Request) { s.otlpExport(w, r, otlp.Logs) }

// otlpMetrics is POST /v1/metrics.
func (s *Server) otlpMetrics(w http.ResponseWriter, r *http.Request) {
	s.otlpExport(w, r, otlp.Metrics)
}

// otlpExport answers as the OTLP/HTTP specification says: 200 with an export
// response (a partial success when some records were refused) once the records are
// journaled; 400 for a body that does not decode, 401 (503 while the drain store
// lost drains), 408 (a body not received within BodyTimeout), 413 (over MaxBody,
// or over otlp.MaxRecords or MaxFields), 415; 429
// when the journal is full and 503 when it or a decoding slot cannot be had in
// time, both with Retry-After, which exporters retry. Error bodies are a
// google.rpc.Status in the request's encoding.
func (s *Server) otlpExport(w http.ResponseWriter, r *http.Request, sig otlp.Signal) {
	enc, err := otlp.ParseContentType(r.Header.Get("Content-Type"))
	if err != nil {
		s.otlpRefuse(w, sig, otlp.Protobuf, http.StatusUnsupportedMediaType, err.Error())
		return
	}
	drain, ok := s.otlpAuthenticate(r)
	if !ok {
		s.otlpUnauthenticated(w, sig, enc)
		return
	}
	body, done, code, err := s.readBodyWithin(w, r)
	defer done()
	if err != nil {
		s.otlpFail(w, sig, enc, code, err.Error())
		return
	}
	res, err := s.otlpJournal(r.Context(), drain, sig, body, enc)
	if err != nil {
		code, retry := otlpErrorCode(err)
		if code == http.StatusServiceUnavailable && !errors.Is(err, otlp.ErrBusy) && !errors.Is(err, context.DeadlineExceeded) {
			s.log.Warn("OTLP export not journaled", "drain", drain.ID, "signal", sig, "err", err)
		} else { // the sender's to mend, or back pressure: counted, not worth a line each
			s.log.Debug("OTLP export refused", "drain", drain.ID, "signal", sig, "code", code, "err", err)
		}
		if retry != "" {
			w.Header().Set("Retry-After", retry)
		}
		s.otlpFail(w, sig, enc, code, err.Error())
		return
	}
	out, err := otlp.EncodeResponse(sig, res, enc)
	if err != nil {
		s.otlpFail(w, sig, enc, http.StatusInternalServerError, "encode the answer: "+err.Error())
		return
	}
	s.otlp.Answered("http", sig, http.StatusOK)
	w.Header().Set("Content-Type", enc.ContentType())
	_, _ = w.Write(out)
}

// otlpJournal decodes body and journals its records.
func (s *Server) otlpJournal(ctx context.Context, d drainpipe.Drain, sig otlp.Signal, body []byte, enc otlp.Encoding) (otlp.Result, error) {
	if sig == otlp.Metrics {
		return s.otlp.ExportMetricsBody(ctx, d, body, enc)
	}
	return s.otlp.ExportLogsBody(ctx, d, body, enc)
}

// otlpAuthenticate finds the drain whose secret the request carries: in
// x-drainpipe-token (what `heroku telemetry:add --headers` sets), else as a bearer
// token.
func (s *Server) otlpAuthenticate(r *http.Request) (drainpipe.Drain, bool) {
	secret := r.Header.Get("X-Drainpipe-Token")
	if secret == "" {
		bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			return drainpipe.Drain{}, false
		}
		secret = bearer
	}
	if secret = strings.TrimSpace(secret); secret == "" {
		return drainpipe.Drain{}, false
	}
	return s.cfg.Drains.Authenticate(secret)
}

// otlpUnauthenticated answers a token that names no drain: 401, which exporters
// take as final, unless the drain store lost drains it had (see package drains),
// when the token may be a good one the store forgot: then 503, which they retry,
// as /logs does. Either way the body is not read.
func (s *Server) otlpUnauthenticated(w http.ResponseWriter, sig otlp.Signal, enc otlp.Encoding) {
	if err := s.cfg.Drains.Health(); err != nil {
		w.Header().Set("Retry-After", strconv.Itoa(int(otlp.LostStoreRetry.Seconds())))
		s.otlpRefuse(w, sig, enc, http.StatusServiceUnavailable, "the drain store is unavailable; retry later")
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="drainpipe"`)
	s.otlpRefuse(w, sig, enc, http.StatusUnauthorized, "missing or wrong drain token: send the drain's secret as x-drainpipe-token or Authorization: Bearer")
}

// otlpErrorCode maps an export's failure to its HTTP status and Retry-After.
func otlpErrorCode(err error) (int, string) {
	switch {
	case errors.Is(err, otlp.ErrBadPayload):
		return http.StatusBadRequest, ""
	case errors.Is(err, otlp.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, ""
	case errors.Is(err, drainpipe.ErrJournalFull):
		// The sinks are behind: a retry within a second would only be refused again.
		return http.StatusTooManyRequests, "5"
	}
	return http.StatusServiceUnavailable, "1"
}

// otlpFail answers an error with a google.rpc.Status, and counts it.
func (s *Server) otlpFail(w http.ResponseWriter, sig otlp.Signal, enc otlp.Encoding, code int, msg string) {
	s.otlp.Answered("http", sig, code)
	w.Header().Set("Content-Type", enc.ContentType())
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(otlp.EncodeStatus(grpcCode(code), msg, enc))
}

// otlpRefuse is otlpFail for a request whose body is not read (see refuse).
func (s *Server) otlpRefuse(w http.ResponseWriter, sig otlp.Signal, enc otlp.Encoding, code int, msg string) {
	dropBody(w)
	s.otlpFail(w, sig, enc, code, msg)
}

// grpcCode is the google.rpc.Code that goes with an HTTP status, as gRPC maps them.
func grpcCode(status int) codes.Code {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	case http.StatusRequestTimeout:
		return codes.DeadlineExceeded
	}
	return codes.Internal
}
