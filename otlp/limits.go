package otlp

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Decoding OTLP costs memory out of proportion with the bytes sent: pdata and the
// records made from it take a few hundred bytes per element, and an element can
// be sent in two bytes. So a request's records and fields are capped, and only a
// few requests are decoded at once (ReceiverConfig.MaxDecoding): decoding is
// CPU-bound, so waiting for a slot costs no throughput.
const (
	// MaxRecords caps the log records or metric data points of one request:
	// exporters send batches of a few thousand.
	MaxRecords = 200_000
	// MaxFields caps the fields of one request's records, counting the resource's
	// and the scope's attributes once per record, as each record carries them: an
	// 8 MiB request of 250-byte lines with 40 resource attributes makes about 1.5M.
	MaxFields = 1 << 22
)

// Errors of a request that are the sender's to mend, to be tested with errors.Is.
var (
	// ErrBadPayload means the body does not decode as an OTLP request.
	ErrBadPayload = errors.New("bad OTLP payload")
	// ErrTooLarge means a request holds more than MaxRecords or MaxFields.
	ErrTooLarge = errors.New("OTLP request too large")
	// ErrBusy means no decoding slot freed up in time; the sender should retry.
	ErrBusy = errors.New("too many OTLP requests being decoded")
)

// admit waits for a decoding slot until ctx ends; release gives it back.
func (rc *Receiver) admit(ctx context.Context) (release func(), err error) {
	select {
	case rc.slots <- struct{}{}:
		return func() { <-rc.slots }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
}

// tryAdmit takes a decoding slot if one is free.
func (rc *Receiver) tryAdmit() (release func(), ok bool) {
	select {
	case rc.slots <- struct{}{}:
		return func() { <-rc.slots }, true
	default:
		return nil, false
	}
}

// checkLogs refuses a logs request over the caps, before anything is made of it.
func checkLogs(ld plog.Logs) error {
	if n := ld.LogRecordCount(); n > MaxRecords {
		return fmt.Errorf("%w: %d log records, at most %d: send smaller batches", ErrTooLarge, n, MaxRecords)
	}
	fields := 0
	for _, rl := range ld.ResourceLogs().All() {
		res := rl.Resource().Attributes().Len()
		for _, sl := range rl.ScopeLogs().All() {
			per := res + sl.Scope().Attributes().Len() + 8 // trace ids, severity, scope name ...
			for _, lr := range sl.LogRecords().All() {
				fields += per + lr.Attributes().Len()
				if lr.Body().Type() == pcommon.ValueTypeMap { // its fields, at most MaxBodyFields
					fields += MaxBodyFields
				}
			}
		}
	}
	if fields > MaxFields {
		return fmt.Errorf("%w: %d fields in its records, at most %d: send smaller batches", ErrTooLarge, fields, MaxFields)
	}
	return nil
}

// checkMetrics refuses a metrics request over the caps.
func checkMetrics(md pmetric.Metrics) error {
	if n := md.DataPointCount(); n > MaxRecords {
		return fmt.Errorf("%w: %d data points, at most %d: send smaller batches", ErrTooLarge, n, MaxRecords)
	}
	fields := 0
	for _, rm := range md.ResourceMetrics().All() {
		res := rm.Resource().Attributes().Len()
		for _, sm := range rm.ScopeMetrics().All() {
			per := res + sm.Scope().Attributes().Len() + 20 // the point's own metric.* fields
			for _, m := range sm.Metrics().All() {
				fields += pointFields(m, per)
			}
		}
	}
	if fields > MaxFields {
		return fmt.Errorf("%w: %d fields in its data points, at most %d: send smaller batches", ErrTooLarge, fields, MaxFields)
	}
	return nil
}

// pointFields counts the fields the data points of m make: each its attributes
// twice (as fields and in its series name) and per more.
func pointFields(m pmetric.Metric, per int) int {
	n := 0
	count := func(attrs int) { n += per + 2*attrs }
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		for _, dp := range m.Gauge().DataPoints().All() {
			count(dp.Attributes().Len())
		}
	case pmetric.MetricTypeSum:
		for _, dp := range m.Sum().DataPoints().All() {
			count(dp.Attributes().Len())
		}
	case pmetric.MetricTypeHistogram:
		for _, dp := range m.Histogram().DataPoints().All() {
			count(dp.Attributes().Len())
		}
	case pmetric.MetricTypeExponentialHistogram:
		for _, dp := range m.ExponentialHistogram().DataPoints().All() {
			count(dp.Attributes().Len())
		}
	}
	return n
}
