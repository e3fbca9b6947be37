package query_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/archive/query"
)

func TestMain(m *testing.M) {
	flag.Parse() // VictoriaLogs' packages read their flags and panic unless they were parsed
	_ = flag.Set("loggerLevel", "WARN")
	os.Exit(m.Run())
}

// openStorage opens an empty storage in a temporary directory.
func openStorage(t testing.TB) *logstorage.Storage {
	t.Helper()
	s := logstorage.MustOpenStorage(t.TempDir(), &logstorage.StorageConfig{Retention: 3650 * 24 * time.Hour, FutureRetention: 2 * 24 * time.Hour})
	t.Cleanup(s.MustClose)
	return s
}

// store writes lines to s as the archive stores them, and makes them searchable.
func store(t testing.TB, s *logstorage.Storage, lines []api.Line) {
	t.Helper()
	lr := logstorage.GetLogRows([]string{"app", "source"}, nil, nil, nil, "")
	defer logstorage.PutLogRows(lr)
	for _, l := range lines {
		fields := []logstorage.Field{
			{Name: query.FieldApp, Value: l.App},
			{Name: query.FieldSource, Value: l.Source},
			{Name: query.FieldMessage, Value: l.Message},
			{Name: query.FieldID, Value: strconv.FormatInt(l.ID, 10)},
			{Name: query.FieldDrain, Value: l.Drain},
			{Name: query.FieldDyno, Value: l.Dyno},
			{Name: query.FieldHost, Value: l.Host},
			{Name: query.FieldPriority, Value: strconv.Itoa(l.Priority)},
			{Name: query.FieldMsgID, Value: l.MsgID},
			{Name: query.FieldStructuredData, Value: l.StructuredData},
			{Name: query.FieldReceived, Value: strconv.FormatInt(l.Received.UnixNano(), 10)},
		}
		if l.Malformed {
			fields = append(fields, logstorage.Field{Name: query.FieldMalformed, Value: "1"})
		}
		lr.MustAdd(logstorage.TenantID{}, l.Time.UnixNano(), fields, -1)
		if lr.RowsCount() >= 1000 {
			s.MustAddRows(lr)
			lr.ResetKeepSettings()
		}
	}
	s.MustAddRows(lr)
	s.DebugFlush()
}

// decode reads JSON lines as api.AppendJSON wrote them.
func decode(t testing.TB, b []byte) []api.Line {
	t.Helper()
	var out []api.Line
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var l api.Line
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("decode %q: %v", b, err)
		}
		out = append(out, l)
	}
	return out
}

// ids lists the lines' ids.
func ids(lines []api.Line) []int64 {
	out := make([]int64, len(lines))
	for i, l := range lines {
		out[i] = l.ID
	}
	return out
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
