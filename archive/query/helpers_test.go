package query_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/prometheus/client_golang/prometheus"
)

// openArchive opens an archive in a temporary directory, closed when the test ends.
func openArchive(t testing.TB) *archive.Archive {
	t.Helper()
	a, err := archive.Open(context.Background(), archive.Config{Dir: filepath.Join(t.TempDir(), "archive"),
		PruneInterval: -1, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Error(err)
		}
	})
	return a
}

// store writes lines to a, in order, as the journal would hand them over: ids
// grow in that order.
func store(t testing.TB, a *archive.Archive, lines []api.Line) {
	t.Helper()
	var entries []drainpipe.Entry
	for i := 0; i < len(lines); i += 500 {
		var recs []drainpipe.Record
		for _, l := range lines[i:min(i+500, len(lines))] {
			recs = append(recs, drainpipe.Record{App: l.App, Drain: l.Drain, Time: l.Time, Received: l.Received,
				Priority: l.Priority, Host: l.Host, Source: l.Source, Dyno: l.Dyno, MsgID: l.MsgID,
				StructuredData: l.StructuredData, Message: l.Message, Malformed: l.Malformed})
		}
		entries = append(entries, drainpipe.Entry{Journal: "j-test", Seq: uint64(len(entries) + 1), Batches: []drainpipe.Batch{{Records: recs}}})
	}
	if err := a.Write(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
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

// messages lists the lines' messages: each line of a fixture has its own.
func messages(lines []api.Line) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.Message
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
