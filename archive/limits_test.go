package archive_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/prometheus/client_golang/prometheus"
)

// cutCount returns drainpipe_archive_fields_cut_total{reason}.
func cutCount(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "drainpipe_archive_fields_cut_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// fieldsOf returns the message fields of the one line that matches.
func fieldsOf(t *testing.T, a *archive.Archive, app, match string) map[string]string {
	t.Helper()
	lines, err := a.Search(context.Background(), archive.Query{App: app, Match: match})
	if err != nil || len(lines) != 1 {
		t.Fatalf("Search(%q) = %d lines, %v", match, len(lines), err)
	}
	out := map[string]string{}
	for _, f := range lines[0].Fields {
		out[f.Key] = f.Value
	}
	return out
}

func TestFieldCaps(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	a := open(t, archive.Config{Registerer: reg})
	var many []string
	for i := range 100 {
		many = append(many, fmt.Sprintf("k%d=v%d", i, i))
	}
	long := strings.Repeat("x", archive.MaxValueLen+1)
	recs := []drainpipe.Record{
		{App: "app", Time: received, Received: received, Message: "many " + strings.Join(many, " ")},
		{App: "app", Time: received, Received: received, Message: "keys é=1 1abc=2 -x=3 " + strings.Repeat("k", 65) + "=4 ok_key=5 a[0]=6"},
		{App: "app", Time: received, Received: received, Message: "values long=" + long + " short=1 short=2 empty="},
	}
	write(t, a, entry(1, recs...))
	got := fieldsOf(t, a, "app", "many")
	if len(got) != archive.MaxMessageFields || got["k0"] != "v0" || got["k31"] != "v31" || got["k32"] != "" {
		t.Errorf("a line of 100 pairs kept %d fields (%v), want the first %d", len(got), got, archive.MaxMessageFields)
	}
	if got := fieldsOf(t, a, "app", "keys"); len(got) != 1 || got["ok_key"] != "5" {
		t.Errorf("keys line kept %v, want only ok_key", got)
	}
	if got := fieldsOf(t, a, "app", "values"); len(got) != 1 || got["short"] != "1" {
		t.Errorf("values line kept %v, want short=1 only", got)
	}
	for reason, want := range map[string]float64{"count": 68, "key": 5, "value": 1, "duplicate": 1} {
		if got := cutCount(t, reg, reason); got != want {
			t.Errorf("fields cut for %s = %v, want %v", reason, got, want)
		}
	}
	lines, err := a.After(context.Background(), "app", 0, 10)
	if err != nil || len(lines) != 3 || lines[2].Message != recs[2].Message {
		t.Errorf("the messages were not kept whole: %v", err)
	}
}

// TestHostileNames: lines that each bring new field names never lose a row
// (VictoriaLogs would drop rows past 2,000 names in a block), and the cap on
// an app's names holds across a restart.
func TestHostileNames(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	dir := filepath.Join(t.TempDir(), "archive")
	a := open(t, archive.Config{Dir: dir, Registerer: reg})
	hostile := func(from, n int) []drainpipe.Record {
		recs := make([]drainpipe.Record, n)
		for i := range recs {
			var pairs []string
			for k := range archive.MaxMessageFields {
				pairs = append(pairs, fmt.Sprintf("f%d_%d=v", from+i, k))
			}
			recs[i] = drainpipe.Record{App: "evil", Source: "app", Time: received, Received: received, Message: strings.Join(pairs, " ")}
		}
		return recs
	}
	write(t, a, entry(1, hostile(0, 200)...))
	if n := countRows(t, a, "evil"); n != 200 {
		t.Fatalf("%d rows stored, want 200", n)
	}
	if got, want := cutCount(t, reg, "vocabulary"), float64(200*archive.MaxMessageFields-archive.MaxNamesPerApp); got != want {
		t.Errorf("fields cut for vocabulary = %v, want %v", got, want)
	}
	a.Close()
	reg2 := prometheus.NewRegistry()
	b := open(t, archive.Config{Dir: dir, Registerer: reg2})
	write(t, b, entry(2, hostile(1000, 100)...))
	if n := countRows(t, b, "evil"); n != 300 {
		t.Fatalf("%d rows stored, want 300", n)
	}
	if got := cutCount(t, reg2, "vocabulary"); got != 100*archive.MaxMessageFields {
		t.Errorf("after a restart, fields cut for vocabulary = %v, want all %d", got, 100*archive.MaxMessageFields)
	}
	// Another app has a cap of its own.
	write(t, b, entry(3, drainpipe.Record{App: "good", Time: received, Received: received, Message: "status=200"}))
	if got := fieldsOf(t, b, "good", "status:=200"); got["status"] != "200" {
		t.Errorf("another app's field was cut: %v", got)
	}
	// A name the previous row of another app took is still checked against
	// this app's vocabulary, whichever comes first.
	write(t, b, entry(4,
		drainpipe.Record{App: "good", Time: received, Received: received, Message: "first fresh=1"},
		drainpipe.Record{App: "evil", Time: received, Received: received, Message: "second fresh=2"},
		drainpipe.Record{App: "good", Time: received, Received: received, Message: "third fresh=3"}))
	if got := fieldsOf(t, b, "evil", "second"); len(got) != 0 {
		t.Errorf("the full app stored %v after another app's row with the same name", got)
	}
	if got := fieldsOf(t, b, "good", "third"); got["fresh"] != "3" {
		t.Errorf("the app with room lost its field after the full app's row: %v", got)
	}
}

// TestAttributesPastTheCapsKept: a record's attributes past what a line keeps as
// fields (MaxAttrs, a name not valid as a field's, one taken) are kept in
// attrs.rest, searchable and read back; only what JSON cannot hold unchanged
// (invalid UTF-8) or past MaxAttrValueLen in all is cut, and counted.
func TestAttributesPastTheCapsKept(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	a := open(t, archive.Config{Registerer: reg})
	var attrs []drainpipe.Attr
	for i := range 100 {
		attrs = append(attrs, drainpipe.Attr{Key: fmt.Sprintf("k%d", i), Value: fmt.Sprintf("v%d", i)})
	}
	attrs = append(attrs[:10], append([]drainpipe.Attr{
		{Key: "not a field name", Value: "spaced"},
		{Key: "bad\xff", Value: "x"},
	}, attrs[10:]...)...)
	write(t, a, entry(1, drainpipe.Record{App: "otel", Source: "app", Time: received, Received: received, Message: "many attributes", Attrs: attrs}))

	lines, err := a.Tail(context.Background(), "otel", 1)
	if err != nil || len(lines) != 1 {
		t.Fatalf("Tail = %v, %v", lines, err)
	}
	got := map[string]string{}
	for _, at := range lines[0].Attrs {
		got[at.Key] = at.Value
	}
	if len(got) != 101 || got["k99"] != "v99" || got["not a field name"] != "spaced" {
		t.Errorf("read back %d attributes (k99=%q, spaced=%q), want 101: the 100 and the spaced one", len(got), got["k99"], got["not a field name"])
	}
	if _, ok := got["bad\xff"]; ok {
		t.Error("an attribute of invalid UTF-8 was kept in attrs.rest, which JSON would change")
	}
	if n := cutCount(t, reg, "key"); n != 1 {
		t.Errorf("cut for key: %v, want 1 (the invalid UTF-8 one)", n)
	}
	if n := cutCount(t, reg, "count"); n != 0 {
		t.Errorf("cut for count: %v, want 0: they are kept", n)
	}
	// Searchable as text of the field.
	if lines, err := a.Search(context.Background(), archive.Query{App: "otel", Match: `"attrs.rest":"v99"`}); err != nil || len(lines) != 1 {
		t.Errorf("a search of attrs.rest found %d lines, %v", len(lines), err)
	}
}
