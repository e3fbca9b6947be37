package httpd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/VictoriaMetrics/VictoriaMetrics/lib/timeutil"
	"github.com/drainpipe/drainpipe/api"
)

// LogsQL is the storage VictoriaLogs' query API runs on; the archive is one. Its
// methods are VictoriaLogs' own (logstorage.Storage's), in the archive's tenant.
type LogsQL interface {
	NewQueryContext(ctx context.Context, q *logstorage.Query) *logstorage.QueryContext
	RunQuery(qctx *logstorage.QueryContext, writeBlock logstorage.WriteDataBlockFunc) error
	GetFieldNames(qctx *logstorage.QueryContext, filter string) ([]logstorage.ValueWithHits, error)
	GetFieldValues(qctx *logstorage.QueryContext, field, filter string, limit uint64) ([]logstorage.ValueWithHits, error)
	GetStreamFieldNames(qctx *logstorage.QueryContext, filter string) ([]logstorage.ValueWithHits, error)
	GetStreamFieldValues(qctx *logstorage.QueryContext, field, filter string, limit uint64) ([]logstorage.ValueWithHits, error)
	GetStreams(qctx *logstorage.QueryContext, limit uint64) ([]logstorage.ValueWithHits, error)
	GetStreamIDs(qctx *logstorage.QueryContext, limit uint64) ([]logstorage.ValueWithHits, error)
}

// Limits of the LogsQL API, as VictoriaLogs' defaults.
const (
	maxQueryLen      = 16 << 10         // bytes of a query (-search.maxQueryLen)
	maxQueryDuration = 30 * time.Second // a query's run (-search.maxQueryDuration)
	maxFormBody      = 1 << 20          // bytes of a POSTed form
	maxSelects       = 4                // queries at once; more wait in line ...
	maxSelectWait    = 10 * time.Second // ... this long (-search.maxQueueDuration)
)

// logsqlRoutes are VictoriaLogs' query endpoints; see the package doc of api.
func (s *Server) logsqlRoutes() {
	routes := map[string]http.HandlerFunc{
		"query":               s.vlQuery,
		"hits":                s.vlHits,
		"facets":              s.vlFacets,
		"field_names":         s.vlFieldNames,
		"field_values":        s.vlFieldValues,
		"stream_field_names":  s.vlStreamFieldNames,
		"stream_field_values": s.vlStreamFieldValues,
		"streams":             s.vlStreams,
		"stream_ids":          s.vlStreamIDs,
		"stats_query":         s.vlStatsQuery,
		"stats_query_range":   s.vlStatsQueryRange,
		"query_time_range":    s.vlQueryTimeRange,
	}
	for name, h := range routes {
		s.mux.Handle("/select/logsql/"+name, s.admin(s.selectLimit(h)))
	}
	// Live tailing runs for as long as the client wants: no time limit, but at
	// most maxTails at once, apart from the queries.
	s.mux.Handle("/select/logsql/tail", s.admin(s.vlForm(atMost(maxTails, refuseTail, s.vlTail))))
}

// selectLimit runs h with VictoriaLogs' limits: at most maxSelects queries at
// once (a query can take every core), each within maxQueryDuration or the
// request's shorter `timeout`.
func (s *Server) selectLimit(h http.HandlerFunc) http.HandlerFunc {
	return s.vlForm(func(w http.ResponseWriter, r *http.Request) {
		d := maxQueryDuration
		if t := r.FormValue("timeout"); t != "" {
			n, ok := logstorage.TryParseDuration(t)
			if !ok {
				vlError(w, fmt.Errorf("cannot parse duration at 'timeout=%s' arg", t))
				return
			}
			if n > 0 && time.Duration(n) < d {
				d = time.Duration(n)
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		wait := time.NewTimer(maxSelectWait)
		defer wait.Stop()
		select {
		case s.selects <- struct{}{}:
			defer func() { <-s.selects }()
		case <-wait.C:
			vlErrorCode(w, http.StatusServiceUnavailable, fmt.Errorf("couldn't start executing the request in %s, since %d queries are running: try again later", maxSelectWait, maxSelects))
			return
		case <-ctx.Done():
			return
		}
		h(w, r.WithContext(ctx))
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			s.log.Warn("LogsQL query timed out", "timeout", d, "query", r.FormValue("query"))
		}
	})
}

// vlForm parses the request's form (the query string, and a POSTed
// application/x-www-form-urlencoded body up to maxFormBody) before h.
func (s *Server) vlForm(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			vlErrorCode(w, http.StatusMethodNotAllowed, errors.New("use GET or POST"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if err := r.ParseForm(); err != nil {
			vlError(w, fmt.Errorf("cannot parse the request's form: %w", err))
			return
		}
		h(w, r)
	}
}

// vlArgs are the arguments every LogsQL endpoint takes (VictoriaLogs' common
// args): the query with its start, end, extra filters and options applied.
type vlArgs struct {
	q *logstorage.Query
	// start and end are the request's time range, inclusive, for the zeros of a
	// histogram; math.MinInt64 and math.MaxInt64 when open.
	start, end int64
	hidden     []string
}

// vlParse reads the common args of r, as VictoriaLogs does: query (required),
// start, end (exclusive), time, ignore_pipes, extra_filters,
// extra_stream_filters, hidden_fields_filters; and the AccountID and ProjectID
// headers, which must name drainpipe's one tenant (0:0) if they are given.
func vlParse(r *http.Request) (*vlArgs, error) {
	if err := checkTenant(r); err != nil {
		return nil, err
	}
	now := time.Now().UnixNano()
	start, startOK, err := vlTime(r, "start", now)
	if err != nil {
		return nil, err
	}
	end, endOK, err := vlTime(r, "end", now)
	if err != nil {
		return nil, err
	}
	if endOK && end != math.MinInt64 {
		end-- // end is exclusive on the wire
	}
	at, atOK, err := vlTime(r, "time", now)
	if err != nil {
		return nil, err
	}
	if !atOK {
		at = now
		if endOK {
			at = end
		}
	}
	q, err := vlQueryArg(r, at)
	if err != nil {
		return nil, err
	}
	if b, err := vlBool(r, "ignore_pipes"); err != nil {
		return nil, err
	} else if b {
		q.DropAllPipes()
	}
	a := &vlArgs{q: q, start: math.MinInt64, end: math.MaxInt64}
	if startOK || endOK {
		if !startOK {
			start = math.MinInt64
		}
		if !endOK {
			end = math.MaxInt64
		}
		start, end = alignToStep(r, start, end)
		q.AddTimeFilter(start, end)
		if startOK {
			a.start = start
		}
		if endOK {
			a.end = end
		}
	}
	if err := addExtraFilters(r, q); err != nil {
		return nil, err
	}
	a.hidden, err = stringList(r.FormValue("hidden_fields_filters"))
	return a, err
}

// checkTenant refuses a tenant other than 0:0, the one drainpipe stores in.
func checkTenant(r *http.Request) error {
	for _, h := range []string{"AccountID", "ProjectID"} {
		v := r.Header.Get(h)
		if v == "" {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return fmt.Errorf("cannot parse %s header %q: %w", h, v, err)
		}
		if n != 0 {
			return fmt.Errorf("%s=%d: drainpipe keeps every line in tenant 0:0", h, n)
		}
	}
	return nil
}

// vlTime reads a time argument as VictoriaLogs does: Unix seconds, RFC 3339, or
// a duration before now (5m).
func vlTime(r *http.Request, name string, now int64) (int64, bool, error) {
	v := r.FormValue(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := timeutil.ParseTimeAt(v, now)
	if err != nil {
		return 0, false, fmt.Errorf("cannot parse %s=%s: %w", name, v, err)
	}
	return n, true, nil
}

// vlQueryArg parses the query argument at the time at.
func vlQueryArg(r *http.Request, at int64) (*logstorage.Query, error) {
	s := r.FormValue("query")
	switch {
	case s == "":
		return nil, errors.New("`query` arg cannot be empty")
	case len(s) > maxQueryLen:
		return nil, fmt.Errorf("the `query` arg length cannot exceed %d bytes; the current query length is %d bytes", maxQueryLen, len(s))
	}
	q, err := logstorage.ParseQueryAtTimestamp(s, at)
	if err != nil {
		return nil, fmt.Errorf("cannot parse `query` arg [%s]: %w", s, err)
	}
	return q, nil
}

func vlBool(r *http.Request, name string) (bool, error) {
	v := r.FormValue(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("cannot parse %s=%q as bool: %w", name, v, err)
	}
	return b, nil
}

// vlInt reads a non-negative integer argument; 0 when absent.
func vlInt(r *http.Request, name string) (int, error) {
	v := r.FormValue(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("cannot parse integer %q=%q: %w", name, v, err)
	}
	if n < 0 {
		return 0, fmt.Errorf("%q cannot be smaller than 0; got %d", name, n)
	}
	return n, nil
}

// vlDuration reads a duration argument (LogsQL's syntax: 1m, 1h30m, 1d), def
// when absent.
func vlDuration(r *http.Request, name, def string) (int64, error) {
	v := r.FormValue(name)
	if v == "" {
		v = def
	}
	n, ok := logstorage.TryParseDuration(v)
	if !ok {
		return 0, fmt.Errorf("cannot parse duration from the arg '%s=%s'", name, v)
	}
	return n, nil
}

// alignToStep widens [start, end] to whole steps when the request has a step
// (and offset), as a histogram's intervals are.
func alignToStep(r *http.Request, start, end int64) (int64, int64) {
	step, ok := logstorage.TryParseDuration(r.FormValue("step"))
	if !ok || step <= 0 {
		return start, end
	}
	var offset int64
	if o, ok := logstorage.TryParseDuration(r.FormValue("offset")); ok {
		offset = o
	}
	if start != math.MinInt64 {
		start = floorStep(start-offset, step) + offset
	}
	if end != math.MaxInt64 {
		end = floorStep(end-offset, step) + offset + step - 1
		if end < start { // overflow at the far end
			end = math.MaxInt64
		}
	}
	return start, end
}

// floorStep rounds t down to a multiple of step.
func floorStep(t, step int64) int64 {
	r := t % step
	if r < 0 {
		r += step
	}
	return t - r
}

// addExtraFilters adds the extra_filters and extra_stream_filters arguments to
// q: LogsQL filters, or JSON objects {"field": "value" or ["v1", "v2"]}.
func addExtraFilters(r *http.Request, q *logstorage.Query) error {
	for _, stream := range []bool{false, true} {
		name := "extra_filters"
		if stream {
			name = "extra_stream_filters"
		}
		for _, v := range r.Form[name] {
			f, err := extraFilter(v, stream)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if f != nil {
				q.AddExtraFilters(f)
			}
		}
	}
	return nil
}

// extraFilter parses one extra filter.
func extraFilter(v string, stream bool) (*logstorage.Filter, error) {
	if v == "" {
		return nil, nil
	}
	if !strings.HasPrefix(v, `{"`) {
		return logstorage.ParseFilter(v)
	}
	pairs, err := fieldValues(v)
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.filter(stream)
	}
	if stream {
		return logstorage.ParseFilter("{" + strings.Join(parts, ",") + "}")
	}
	return logstorage.ParseFilter(strings.Join(parts, " "))
}

// fieldValue is one pair of an extra filter's JSON object.
type fieldValue struct {
	field  string
	values []string
}

// filter is the pair as a LogsQL filter: exact values, or a stream selector's
// label matcher.
func (p fieldValue) filter(stream bool) string {
	k := strconv.Quote(p.field)
	if len(p.values) == 1 {
		if stream {
			return k + "=" + strconv.Quote(p.values[0])
		}
		return k + ":=" + strconv.Quote(p.values[0])
	}
	vs := make([]string, len(p.values))
	for i, v := range p.values {
		if stream {
			vs[i] = regexp.QuoteMeta(v)
		} else {
			vs[i] = strconv.Quote(v)
		}
	}
	if stream {
		return k + "=~" + strconv.Quote(strings.Join(vs, "|"))
	}
	return k + ":in(" + strings.Join(vs, ",") + ")"
}

// fieldValues reads an extra filter's JSON object, keeping its order.
func fieldValues(v string) ([]fieldValue, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return nil, fmt.Errorf("cannot parse %q: %w", v, err)
	}
	var out []fieldValue
	dec := json.NewDecoder(strings.NewReader(v))
	_, _ = dec.Token() // {
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		var one string
		if json.Unmarshal(raw, &one) == nil {
			out = append(out, fieldValue{k, []string{one}})
			continue
		}
		var many []string
		if err := json.Unmarshal(raw, &many); err != nil {
			return nil, fmt.Errorf("unexpected type of value for key %q: want a string or an array of strings; value: %s", k, raw)
		}
		if len(many) > 0 {
			out = append(out, fieldValue{k, many})
		}
	}
	return out, nil
}

// stringList reads a list argument: a JSON array of strings, or comma-separated.
func stringList(v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	if strings.HasPrefix(v, "[") {
		var a []string
		if err := json.Unmarshal([]byte(v), &a); err != nil {
			return nil, fmt.Errorf("cannot unmarshal JSON array from %q: %w", v, err)
		}
		return a, nil
	}
	return strings.Split(v, ","), nil
}

// runQuery runs qc. The engine stops early, without an error, when the
// request's context ends (its timeout, or the client gone): runQuery then
// returns the context's error, so that a cut answer is never sent as a whole one.
func (s *Server) runQuery(qc *logstorage.QueryContext, write logstorage.WriteDataBlockFunc) error {
	if err := s.cfg.LogsQL.RunQuery(qc, write); err != nil {
		return err
	}
	return qc.Context.Err()
}

// qctx is the query context of a with the request's context.
func (s *Server) qctx(ctx context.Context, a *vlArgs) *logstorage.QueryContext {
	qc := s.cfg.LogsQL.NewQueryContext(ctx, a.q)
	if len(a.hidden) > 0 {
		qc = logstorage.NewQueryContext(ctx, qc.QueryStats, qc.TenantIDs, a.q, false, a.hidden)
	}
	return qc
}

// vlHeaders sets the headers VictoriaLogs answers with: the query's duration
// (vlogscli prints it) and the tenant.
func vlHeaders(w http.ResponseWriter, ctype string, started time.Time) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("VL-Request-Duration-Seconds", fmt.Sprintf("%.3f", time.Since(started).Seconds()))
	h.Set("AccountID", "0")
	h.Set("ProjectID", "0")
	h.Set("Access-Control-Expose-Headers", "Vl-Request-Duration-Seconds, Accountid, Projectid")
}

// vlError answers err as VictoriaLogs does: 400 and the sentence as text.
func vlError(w http.ResponseWriter, err error) { vlErrorCode(w, http.StatusBadRequest, err) }

func vlErrorCode(w http.ResponseWriter, code int, err error) {
	if errors.Is(err, context.DeadlineExceeded) {
		code = http.StatusServiceUnavailable
		err = fmt.Errorf("the request couldn't be executed in %s; pass a bigger `timeout` (up to %s) or narrow the query", maxQueryDuration, maxQueryDuration)
	}
	http.Error(w, err.Error(), code)
}

// promError answers err as the stats endpoints do, in Prometheus' error format.
func promError(w http.ResponseWriter, err error) {
	code := http.StatusUnprocessableEntity
	if errors.Is(err, context.DeadlineExceeded) {
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b := append([]byte(`{"status":"error","errorType":"`), strconv.Itoa(code)...)
	b = append(b, `","error":`...)
	b = api.AppendJSONString(b, err.Error())
	_, _ = w.Write(append(b, "}\n"...))
}
