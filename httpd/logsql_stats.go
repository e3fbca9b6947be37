package httpd

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/VictoriaMetrics/VictoriaMetrics/lib/stringsutil"
	"github.com/drainpipe/drainpipe/api"
)

// vlHits serves /select/logsql/hits: the number of rows per step, in one series
// per combination of the values of the field arguments (the fields_limit ones
// with the most rows, the others summed under {}), each interval of the range
// present, zeros included.
func (s *Server) vlHits(w http.ResponseWriter, r *http.Request) {
	a, err := vlParse(r)
	if err != nil {
		vlError(w, err)
		return
	}
	step, err := vlDuration(r, "step", "")
	if err == nil && step <= 0 {
		err = errors.New("'step' must be bigger than zero")
	}
	if err != nil {
		vlError(w, err)
		return
	}
	offset, err1 := vlDuration(r, "offset", "0s")
	limit, err2 := vlInt(r, "fields_limit")
	if err := errors.Join(err1, err2); err != nil {
		vlError(w, err)
		return
	}
	a.q.AddCountByTimePipe(step, offset, r.Form["field"])
	started := time.Now()
	m := map[string]*hitSeries{}
	var mu sync.Mutex
	write := func(_ uint, db *logstorage.DataBlock) {
		cols := db.GetColumns(false)
		if len(cols) < 2 {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for i := range db.RowsCount() {
			ts, ok := logstorage.TryParseTimestampRFC3339Nano(cols[0].Values[i])
			n, err := strconv.ParseUint(cols[len(cols)-1].Values[i], 10, 64)
			if !ok || err != nil {
				continue
			}
			key := string(fieldsJSON(nil, cols[1:len(cols)-1], i))
			hs := m[key]
			if hs == nil {
				hs = &hitSeries{}
				m[key] = hs
			}
			hs.add(ts, n)
		}
	}
	if err := s.runQuery(s.qctx(r.Context(), a), write); err != nil {
		vlError(w, fmt.Errorf("cannot execute query [%s]: %w", a.q, err))
		return
	}
	m = topHits(m, limit)
	zeroFill(m, a.start, a.end, step, offset)
	vlHeaders(w, "application/json", started)
	_, _ = w.Write(hitsJSON(m))
}

// hitSeries is one series of /select/logsql/hits.
type hitSeries struct {
	total uint64
	times []int64
	hits  []uint64
}

func (hs *hitSeries) add(ts int64, n uint64) {
	hs.times = append(hs.times, ts)
	hs.hits = append(hs.hits, n)
	hs.total += n
}

// fieldsJSON appends the row's values of cols as a JSON object.
func fieldsJSON(dst []byte, cols []logstorage.BlockColumn, row int) []byte {
	dst = append(dst, '{')
	for j, c := range cols {
		if j > 0 {
			dst = append(dst, ',')
		}
		dst = api.AppendJSONString(dst, c.Name)
		dst = append(dst, ':')
		dst = api.AppendJSONString(dst, c.Values[row])
	}
	return append(dst, '}')
}

// topHits keeps the limit series with the most rows and sums the others into
// the series {}; limit 0 keeps all.
func topHits(m map[string]*hitSeries, limit int) map[string]*hitSeries {
	if limit <= 0 || limit >= len(m) {
		return m
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortStableFunc(keys, func(a, b string) int {
		switch {
		case m[a].total > m[b].total:
			return -1
		case m[a].total < m[b].total:
			return 1
		}
		return strings.Compare(a, b)
	})
	out := make(map[string]*hitSeries, limit+1)
	sums := map[int64]uint64{}
	for i, k := range keys {
		if i < limit {
			out[k] = m[k]
			continue
		}
		for j, ts := range m[k].times {
			sums[ts] += m[k].hits[j]
		}
	}
	other := &hitSeries{}
	for ts, n := range sums {
		other.add(ts, n)
	}
	out["{}"] = other
	return out
}

// zeroFill adds a zero to each series for every step of [start, end] it has
// no count for; an open end is the series' first or last time.
func zeroFill(m map[string]*hitSeries, start, end, step, offset int64) {
	if len(m) == 0 {
		return
	}
	if start == math.MinInt64 {
		start = math.MaxInt64
		for _, hs := range m {
			start = min(start, slices.Min(append(hs.times, math.MaxInt64)))
		}
	}
	if end == math.MaxInt64 {
		end = math.MinInt64
		for _, hs := range m {
			end = max(end, slices.Max(append(hs.times, math.MinInt64)))
		}
	}
	if start == math.MaxInt64 || end == math.MinInt64 {
		return
	}
	start = floorStep(start-offset, step) + offset
	for _, hs := range m {
		have := map[int64]bool{}
		for _, ts := range hs.times {
			have[ts] = true
		}
		for ts := start; ts <= end; ts += step {
			if !have[ts] {
				hs.add(ts, 0)
			}
			if ts > math.MaxInt64-step {
				break
			}
		}
	}
}

// hitsJSON is the answer of /select/logsql/hits, series by their fields, each
// in time order.
func hitsJSON(m map[string]*hitSeries) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := []byte(`{"hits":[`)
	for i, k := range keys {
		hs := m[k]
		idx := make([]int, len(hs.times))
		for j := range idx {
			idx[j] = j
		}
		slices.SortFunc(idx, func(x, y int) int { return cmp.Compare(hs.times[x], hs.times[y]) })
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"fields":`...)
		b = append(b, k...)
		b = append(b, `,"timestamps":[`...)
		for j, x := range idx {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, rfc3339(hs.times[x]))
		}
		b = append(b, `],"values":[`...)
		for j, x := range idx {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, hs.hits[x], 10)
		}
		b = fmt.Appendf(b, `],"total":%d}`, hs.total)
	}
	return append(b, "]}\n"...)
}

// vlFacets serves /select/logsql/facets: the most frequent values of every
// field of the rows, by VictoriaLogs' facets pipe.
func (s *Server) vlFacets(w http.ResponseWriter, r *http.Request) {
	a, err := vlParse(r)
	if err != nil {
		vlError(w, err)
		return
	}
	limit, err1 := vlInt(r, "limit")
	perField, err2 := vlInt(r, "max_values_per_field")
	valueLen, err3 := vlInt(r, "max_value_len")
	keepConst, err4 := vlBool(r, "keep_const_fields")
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		vlError(w, err)
		return
	}
	a.q.AddFacetsPipe(limit, perField, valueLen, keepConst)
	started := time.Now()
	m := map[string][]facetEntry{}
	var mu sync.Mutex
	write := func(_ uint, db *logstorage.DataBlock) {
		cols := db.GetColumns(false)
		if len(cols) != 3 {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for i := range db.RowsCount() {
			name := strings.Clone(cols[0].Values[i])
			m[name] = append(m[name], facetEntry{strings.Clone(cols[1].Values[i]), strings.Clone(cols[2].Values[i])})
		}
	}
	if err := s.runQuery(s.qctx(r.Context(), a), write); err != nil {
		vlError(w, fmt.Errorf("cannot execute query [%s]: %w", a.q, err))
		return
	}
	vlHeaders(w, "application/json", started)
	_, _ = w.Write(facetsJSON(m))
}

// facetEntry is a value of a field and its hits, as the facets pipe gives them.
type facetEntry struct{ value, hits string }

// facetsJSON is the answer of /select/logsql/facets: fields by name, values by
// hits (most first), then by value.
func facetsJSON(m map[string][]facetEntry) []byte {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	b := []byte(`{"facets":[`)
	for i, name := range names {
		es := m[name]
		slices.SortFunc(es, func(x, y facetEntry) int {
			switch {
			case x.hits == y.hits:
				return strings.Compare(x.value, y.value)
			case stringsutil.LessNatural(y.hits, x.hits):
				return -1
			}
			return 1
		})
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"field_name":`...)
		b = api.AppendJSONString(b, name)
		b = append(b, `,"values":[`...)
		for j, e := range es {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"field_value":`...)
			b = api.AppendJSONString(b, e.value)
			b = append(b, `,"hits":`...)
			b = append(b, e.hits...)
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}\n"...)
}

// statSeries is one series of a stats answer: a metric, its labels, its points.
type statSeries struct {
	key    string
	name   string
	labels []logstorage.Field
	points []statPoint
}

type statPoint struct {
	ts    int64
	value string
}

// vlStatsQuery serves /select/logsql/stats_query: the results of a query ending
// in `| stats`, as a Prometheus instant vector at the query's time.
func (s *Server) vlStatsQuery(w http.ResponseWriter, r *http.Request) {
	s.vlStats(w, r, false)
}

// vlStatsQueryRange serves /select/logsql/stats_query_range: the same per step,
// as a Prometheus range matrix.
func (s *Server) vlStatsQueryRange(w http.ResponseWriter, r *http.Request) {
	s.vlStats(w, r, true)
}

func (s *Server) vlStats(w http.ResponseWriter, r *http.Request, ranged bool) {
	a, err := vlParse(r)
	if err != nil {
		promError(w, err)
		return
	}
	var step, offset int64
	if ranged {
		if step, err = vlDuration(r, "step", ""); err == nil && step <= 0 {
			err = errors.New("'step' must be bigger than zero")
		}
		if err == nil {
			offset, err = vlDuration(r, "offset", "0s")
		}
		if err != nil {
			promError(w, err)
			return
		}
	}
	labels, err := a.q.GetStatsLabelsAddGroupingByTime(step, offset)
	if err != nil {
		promError(w, err)
		return
	}
	started := time.Now()
	c := &statsCollector{labels: labels, at: a.q.GetTimestamp(), series: map[string]*statSeries{}}
	if err := s.runQuery(s.qctx(r.Context(), a), c.writeBlock); err != nil {
		promError(w, fmt.Errorf("cannot execute query [%s]: %w", a.q, err))
		return
	}
	vlHeaders(w, "application/json", started)
	_, _ = w.Write(c.json(ranged))
}

// statsCollector turns a stats query's rows into series: each column that is not
// a label is a metric, labelled with the row's label columns; a histogram()
// result becomes one _bucket series per vmrange.
type statsCollector struct {
	mu     sync.Mutex
	labels []string
	at     int64
	series map[string]*statSeries
}

func (c *statsCollector) writeBlock(_ uint, db *logstorage.DataBlock) {
	cols := db.GetColumns(false)
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range db.RowsCount() {
		ts := c.at
		var labels []logstorage.Field
		for _, col := range cols {
			if col.Name == "_time" {
				if t, ok := logstorage.TryParseTimestampRFC3339Nano(col.Values[i]); ok {
					ts = t
					continue
				}
			}
			if slices.Contains(c.labels, col.Name) {
				labels = append(labels, logstorage.Field{Name: strings.Clone(col.Name), Value: strings.Clone(col.Values[i])})
			}
		}
		idx := 0
		for _, col := range cols {
			if slices.Contains(c.labels, col.Name) {
				continue
			}
			c.addMetric(idx, col.Name, labels, ts, col.Values[i])
			idx++
		}
	}
}

// addMetric adds one metric's value; idx is the metric's column among the row's
// metrics, so series sort as VictoriaLogs sorts them.
func (c *statsCollector) addMetric(idx int, name string, labels []logstorage.Field, ts int64, v string) {
	if v == "[]" || strings.HasPrefix(v, `[{"vmrange":"`) {
		var buckets []struct {
			VMRange string `json:"vmrange"`
			Hits    uint64 `json:"hits"`
		}
		if json.Unmarshal([]byte(v), &buckets) == nil {
			for _, bk := range buckets {
				bl := append(slices.Clone(labels), logstorage.Field{Name: "vmrange", Value: bk.VMRange})
				c.add(idx, name+"_bucket", bl, statPoint{ts, strconv.FormatUint(bk.Hits, 10)})
			}
			return
		}
	}
	c.add(idx, strings.Clone(name), labels, statPoint{ts, strings.Clone(v)})
}

func (c *statsCollector) add(idx int, name string, labels []logstorage.Field, p statPoint) {
	key := fmt.Appendf(nil, "%08d", idx)
	key = append(key, name...)
	key = logstorage.MarshalFieldsToJSON(key, labels)
	ss := c.series[string(key)]
	if ss == nil {
		ss = &statSeries{key: string(key), name: name, labels: labels}
		c.series[ss.key] = ss
	}
	ss.points = append(ss.points, p)
}

// json is the Prometheus-style answer: a vector (one value per series) or a
// matrix (points in time order), series by their key.
func (c *statsCollector) json(ranged bool) []byte {
	all := make([]*statSeries, 0, len(c.series))
	for _, ss := range c.series {
		slices.SortStableFunc(ss.points, func(a, b statPoint) int { return cmp.Compare(a.ts, b.ts) })
		all = append(all, ss)
	}
	slices.SortFunc(all, func(a, b *statSeries) int { return strings.Compare(a.key, b.key) })
	kind := "vector"
	if ranged {
		kind = "matrix"
	}
	b := []byte(`{"status":"success","data":{"resultType":"` + kind + `","result":[`)
	first := true
	for _, ss := range all {
		for _, p := range ss.points {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendMetric(b, ss)
			if ranged {
				b = append(b, `"values":[`...)
				for j, p := range ss.points {
					if j > 0 {
						b = append(b, ',')
					}
					b = appendPoint(b, p)
				}
				b = append(b, "]}"...)
				break
			}
			b = append(b, `"value":`...)
			b = append(appendPoint(b, p), '}')
		}
	}
	return append(b, "]}}\n"...)
}

// appendMetric appends `{"metric":{"__name__":...,labels},` of a series.
func appendMetric(b []byte, ss *statSeries) []byte {
	b = append(b, `{"metric":{"__name__":`...)
	b = api.AppendJSONString(b, ss.name)
	for _, l := range ss.labels {
		b = append(b, ',')
		b = api.AppendJSONString(b, l.Name)
		b = append(b, ':')
		b = api.AppendJSONString(b, l.Value)
	}
	return append(b, "},"...)
}

// appendPoint appends [seconds, "value"].
func appendPoint(b []byte, p statPoint) []byte {
	b = append(b, '[')
	secs := float64(p.ts) / 1e9
	if secs == math.Trunc(secs) && math.Abs(secs) < 1<<53 {
		b = strconv.AppendInt(b, int64(secs), 10)
	} else {
		b = strconv.AppendFloat(b, secs, 'f', -1, 64)
	}
	b = append(b, ',')
	b = api.AppendJSONString(b, p.value)
	return append(b, ']')
}
