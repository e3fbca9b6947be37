package otlp_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/drainpipe/drainpipe/otlp"
)

// TestRequestCaps: requests that would cost far more memory than their bytes (many
// tiny records, or a large resource repeated on each) are refused before any record
// is made; no journal is needed to see it.
func TestRequestCaps(t *testing.T) {
	rc, err := otlp.NewReceiver(otlp.ReceiverConfig{})
	if err != nil {
		t.Fatal(err)
	}
	logs := func(resAttrs, records int) []byte {
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		for i := range resAttrs {
			rl.Resource().Attributes().PutStr("k"+strconv.Itoa(i), "v")
		}
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		lrs.EnsureCapacity(records)
		for range records {
			lrs.AppendEmpty()
		}
		b, _ := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
		return b
	}
	points := func(n int) []byte {
		md := pmetric.NewMetrics()
		dps := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptyGauge().DataPoints()
		dps.EnsureCapacity(n)
		for range n {
			dps.AppendEmpty()
		}
		b, _ := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
		return b
	}
	for _, tt := range []struct {
		name   string
		signal otlp.Signal
		body   []byte
	}{
		{"too many log records", otlp.Logs, logs(0, otlp.MaxRecords+1)},
		{"a resource too large to repeat on every record", otlp.Logs, logs(100, otlp.MaxFields/100)},
		{"too many data points", otlp.Metrics, points(otlp.MaxRecords + 1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.signal == otlp.Logs {
				_, err = rc.ExportLogsBody(context.Background(), testDrain, tt.body, otlp.Protobuf)
			} else {
				_, err = rc.ExportMetricsBody(context.Background(), testDrain, tt.body, otlp.Protobuf)
			}
			if !errors.Is(err, otlp.ErrTooLarge) {
				t.Fatalf("a body of %d bytes: %v, want ErrTooLarge", len(tt.body), err)
			}
		})
	}
}
