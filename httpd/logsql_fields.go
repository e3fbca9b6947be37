package httpd

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe/api"
)

// vlFieldNames serves /select/logsql/field_names: the fields of the lines the
// query selects, each with the number of lines that have it.
func (s *Server) vlFieldNames(w http.ResponseWriter, r *http.Request) {
	s.vlValues(w, r, false, func(qc *logstorage.QueryContext, limit uint64) ([]logstorage.ValueWithHits, error) {
		return s.cfg.LogsQL.GetFieldNames(qc, r.FormValue("filter"))
	})
}

// vlFieldValues serves /select/logsql/field_values: the values of field.
func (s *Server) vlFieldValues(w http.ResponseWriter, r *http.Request) {
	s.vlValues(w, r, true, func(qc *logstorage.QueryContext, limit uint64) ([]logstorage.ValueWithHits, error) {
		return s.cfg.LogsQL.GetFieldValues(qc, r.FormValue("field"), r.FormValue("filter"), limit)
	})
}

// vlStreamFieldNames serves /select/logsql/stream_field_names.
func (s *Server) vlStreamFieldNames(w http.ResponseWriter, r *http.Request) {
	s.vlValues(w, r, false, func(qc *logstorage.QueryContext, limit uint64) ([]logstorage.ValueWithHits, error) {
		return s.cfg.LogsQL.GetStreamFieldNames(qc, r.FormValue("filter"))
	})
}

// vlStreamFieldValues serves /select/logsql/stream_field_values.
func (s *Server) vlStreamFieldValues(w http.ResponseWriter, r *http.Request) {
	s.vlValues(w, r, true, func(qc *logstorage.QueryContext, limit uint64) ([]logstorage.ValueWithHits, error) {
		return s.cfg.LogsQL.GetStreamFieldValues(qc, r.FormValue("field"), r.FormValue("filter"), limit)
	})
}

// vlStreams serves /select/logsql/streams.
func (s *Server) vlStreams(w http.ResponseWriter, r *http.Request) {
	s.vlValues(w, r, false, s.cfg.LogsQL.GetStreams)
}

// vlStreamIDs serves /select/logsql/stream_ids.
func (s *Server) vlStreamIDs(w http.ResponseWriter, r *http.Request) {
	s.vlValues(w, r, false, s.cfg.LogsQL.GetStreamIDs)
}

// vlValues answers a request for values with their hits, {"values": [{"value":
// "...", "hits": N}]}, from get; needField says the request must name a field.
func (s *Server) vlValues(w http.ResponseWriter, r *http.Request, needField bool, get func(*logstorage.QueryContext, uint64) ([]logstorage.ValueWithHits, error)) {
	a, err := vlParse(r)
	if err != nil {
		vlError(w, err)
		return
	}
	if needField && r.FormValue("field") == "" {
		vlError(w, errors.New("missing 'field' query arg"))
		return
	}
	limit, err := vlInt(r, "limit")
	if err != nil {
		vlError(w, err)
		return
	}
	started := time.Now()
	values, err := get(s.qctx(r.Context(), a), uint64(limit))
	if err == nil {
		err = r.Context().Err() // the engine stops early, without an error, when the context ends
	}
	if err != nil {
		vlError(w, fmt.Errorf("cannot execute query [%s]: %w", a.q, err))
		return
	}
	vlHeaders(w, "application/json", started)
	b := []byte(`{"values":[`)
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"value":`...)
		b = api.AppendJSONString(b, v.Value)
		b = fmt.Appendf(b, `,"hits":%d}`, v.Hits)
	}
	_, _ = w.Write(append(b, "]}\n"...))
}
