package archive_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/logfmt"
)

// engineShapes are ways of storing a line as VictoriaLogs fields, from the
// message alone (the spike) to the archive's own row, a step at a time.
var engineShapes = []struct {
	name   string
	fields func(r *drainpipe.Record, id int) []logstorage.Field
}{
	{"msg", func(r *drainpipe.Record, _ int) []logstorage.Field {
		return streamAndMessage(r)
	}},
	{"msg+3fields", func(r *drainpipe.Record, _ int) []logstorage.Field {
		f := streamAndMessage(r)
		logfmt.Scan(r.Message, func(k, v string) bool {
			if k == "request_id" || k == "fwd" || k == "status" {
				f = append(f, logstorage.Field{Name: k, Value: v})
			}
			return true
		})
		return f
	}},
	{"msg+logfmt", func(r *drainpipe.Record, _ int) []logstorage.Field {
		return appendMessageFields(streamAndMessage(r), r.Message)
	}},
	{"msg+logfmt+own", func(r *drainpipe.Record, id int) []logstorage.Field {
		f := append(streamAndMessage(r),
			logstorage.Field{Name: archive.FieldID, Value: strconv.Itoa(id)},
			logstorage.Field{Name: archive.FieldDrain, Value: r.Drain},
			logstorage.Field{Name: archive.FieldHost, Value: r.Host},
			logstorage.Field{Name: archive.FieldDyno, Value: r.Dyno},
			logstorage.Field{Name: archive.FieldReceived, Value: strconv.FormatInt(r.Received.UnixNano(), 10)},
			logstorage.Field{Name: archive.FieldPriority, Value: strconv.Itoa(r.Priority)},
			logstorage.Field{Name: archive.FieldSeverity, Value: "info"},
		)
		return appendMessageFields(f, r.Message)
	}},
}

func streamAndMessage(r *drainpipe.Record) []logstorage.Field {
	return []logstorage.Field{
		{Name: archive.FieldApp, Value: r.App},
		{Name: archive.FieldSource, Value: r.Source},
		{Name: archive.FieldMessage, Value: r.Message},
	}
}

// appendMessageFields adds the message's logfmt pairs, a taken name prefixed
// as the archive does (router lines' dyno= and host=).
func appendMessageFields(f []logstorage.Field, msg string) []logstorage.Field {
	logfmt.Scan(msg, func(k, v string) bool {
		if k == archive.FieldDyno || k == archive.FieldHost {
			k = "msg." + k
		}
		f = append(f, logstorage.Field{Name: k, Value: v})
		return true
	})
	return f
}

// BenchmarkEngineRows stores lineGen's lines straight into VictoriaLogs'
// storage (no journal, no archive), as the spike did: one goroutine
// adding rows of 1,000, the engine's own goroutines building and merging parts,
// every 100,000 lines flushed to parts. The rows are built before the clock
// starts, so the figures are the engine's alone, for each shape of row; as in
// the server, the lines of a 400-line request share their time received. Next
// to BenchmarkWrite in one run, they show what each field stored as a column
// costs (docs/benchmarks.md, "What the apply rate is made of").
func BenchmarkEngineRows(b *testing.B) {
	open(b, archive.Config{}) // the archive's engine settings (cache size, no mmap)
	g := newLineGen(5, received.Add(-2*time.Hour))
	recs := make([]drainpipe.Record, 100_000)
	for i := range recs {
		recs[i] = g.record("bench-app")
		// The server stamps a whole request's lines with one time received.
		recs[i].Received = recs[i-i%400].Received
	}
	for _, shape := range engineShapes {
		rows := make([][]logstorage.Field, len(recs))
		for i := range recs {
			rows[i] = shape.fields(&recs[i], i)
		}
		b.Run(shape.name, func(b *testing.B) {
			st := logstorage.MustOpenStorage(b.TempDir(), &logstorage.StorageConfig{Retention: 7 * 24 * time.Hour})
			defer st.MustClose()
			lr := logstorage.GetLogRows(nil, nil, nil, nil, "")
			defer logstorage.PutLogRows(lr)
			base := received.Add(-time.Hour).UnixNano()
			lines, cpu := 0, cpuTime()
			for b.Loop() {
				for _, f := range rows {
					lr.MustAdd(logstorage.TenantID{}, base+int64(lines)*1000, f, len(archive.StreamFields))
					lines++
					if lr.RowsCount() == 1000 {
						st.MustAddRows(lr)
						lr.ResetKeepSettings()
					}
				}
				st.MustAddRows(lr)
				lr.ResetKeepSettings()
				st.DebugFlush()
			}
			reportLines(b, lines, cpu)
		})
	}
}
