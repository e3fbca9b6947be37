package otlp_test

import (
	"testing"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/metrics"
	"github.com/drainpipe/drainpipe/otlp"
)

// uniqueKeys fails the test when a record names a field twice.
func uniqueKeys(t *testing.T, r drainpipe.Record) {
	seen := make(map[string]bool, len(r.Attrs))
	for _, a := range r.Attrs {
		if seen[a.Key] {
			t.Fatalf("field %q twice in %+v", a.Key, r.Attrs)
		}
		seen[a.Key] = true
	}
}

// FuzzDecodeLogs feeds arbitrary bodies to the logs entry point, in both encodings:
// decoding must never panic, and every record a request holds must map to one
// record of the drain's app, with unique field names, and be answered.
func FuzzDecodeLogs(f *testing.F) {
	for _, s := range readSeeds(f) {
		if s.signal == otlp.Logs {
			f.Add(s.body, s.enc == otlp.JSON)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, asJSON bool) {
		enc := otlp.Protobuf
		if asJSON {
			enc = otlp.JSON
		}
		ld, err := otlp.DecodeLogs(body, enc)
		if err != nil {
			return
		}
		m := otlp.LogRecords(ld, testDrain, received)
		if len(m.Records) != ld.LogRecordCount() || m.Rejected != 0 {
			t.Fatalf("%d records of %d, %d rejected", len(m.Records), ld.LogRecordCount(), m.Rejected)
		}
		for _, r := range m.Records {
			if r.App != testDrain.App || r.Drain != testDrain.ID || r.Time.IsZero() {
				t.Fatalf("record %+v", r)
			}
			uniqueKeys(t, r)
		}
		if _, err := otlp.EncodeResponse(otlp.Logs, otlp.Result{Rejected: 1, Message: "x"}, enc); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecodeMetrics feeds arbitrary bodies to the metrics entry point: decoding must
// never panic, every data point is either a record or rejected (or skipped, when
// it has no value), and every record is a point the aggregator takes.
func FuzzDecodeMetrics(f *testing.F) {
	for _, s := range readSeeds(f) {
		if s.signal == otlp.Metrics {
			f.Add(s.body, s.enc == otlp.JSON)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, asJSON bool) {
		enc := otlp.Protobuf
		if asJSON {
			enc = otlp.JSON
		}
		md, err := otlp.DecodeMetrics(body, enc)
		if err != nil {
			return
		}
		m := otlp.MetricRecords(md, testDrain, received)
		if len(m.Records)+int(m.Rejected) > md.DataPointCount() || m.Rejected > 0 && m.Reason == "" {
			t.Fatalf("%d records and %d rejected (%q) of %d points", len(m.Records), m.Rejected, m.Reason, md.DataPointCount())
		}
		agg, err := metrics.NewAggregator(metrics.Config{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range m.Records {
			uniqueKeys(t, r)
			if err := agg.AddRecord(r); err != nil {
				t.Fatalf("the aggregator refuses a point the receiver accepted: %v\n%+v", err, r)
			}
		}
		agg.Flush(received.Add(1e15))
	})
}
