package otlp

import (
	"math"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/drainpipe/drainpipe"
)

// LogRecords maps every log record of ld to a record of drain d received at
// received, in the order they were sent. A log record is never rejected: whatever
// it holds is kept (see the package documentation).
func LogRecords(ld plog.Logs, d drainpipe.Drain, received time.Time) Mapped {
	m := Mapped{Records: make([]drainpipe.Record, 0, ld.LogRecordCount())}
	for _, rl := range ld.ResourceLogs().All() {
		o := readResource(rl.Resource(), d.App)
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				m.Records = append(m.Records, logRecord(lr, sl.Scope(), &o, d, received))
				if o.foreignApp != "" {
					m.Foreign++
				}
			}
		}
	}
	return m
}

// logRecord maps one log record: see the package documentation.
func logRecord(lr plog.LogRecord, scope pcommon.InstrumentationScope, o *origin, d drainpipe.Drain, received time.Time) drainpipe.Record {
	r := drainpipe.Record{
		Drain: d.ID, App: d.App, Received: received, Time: recordTime(lr.Timestamp(), lr.ObservedTimestamp(), received),
		Source: o.source, Dyno: o.dyno, Host: o.host,
		Priority: priority(lr.SeverityNumber(), lr.SeverityText(), o.source),
	}
	var f fields
	f.attrs = make([]drainpipe.Attr, 0, lr.Attributes().Len()+len(o.rest)+4)
	if id := lr.TraceID(); !id.IsEmpty() {
		f.add("trace_id", id.String(), "")
	}
	if id := lr.SpanID(); !id.IsEmpty() {
		f.add("span_id", id.String(), "")
	}
	if fl := lr.Flags(); fl != 0 {
		f.add("trace_flags", strconv.FormatUint(uint64(fl), 10), "")
	}
	if t := lr.SeverityText(); t != "" {
		f.add("severity_text", t, "")
	}
	if n := lr.SeverityNumber(); n != plog.SeverityNumberUnspecified {
		f.add("severity_number", strconv.Itoa(int(n)), "")
	}
	if e := lr.EventName(); e != "" {
		f.add("event_name", e, "")
	}
	f.addMap(lr.Attributes(), "attr.")
	body := lr.Body()
	switch body.Type() {
	case pcommon.ValueTypeStr:
		r.Message = trimNewline(body.Str())
	case pcommon.ValueTypeMap:
		r.Message = body.AsString()
		f.addBody(body.Map())
	default:
		r.Message = body.AsString()
	}
	addScope(&f, scope)
	for _, a := range o.rest {
		f.add(a.k, a.v, "resource.")
	}
	if len(f.attrs) > 0 {
		r.Attrs = f.attrs
	}
	return r
}

// addScope adds the instrumentation scope's name, version and attributes.
func addScope(f *fields, scope pcommon.InstrumentationScope) {
	if n := scope.Name(); n != "" {
		f.add("otel.scope.name", n, "")
	}
	if v := scope.Version(); v != "" {
		f.add("otel.scope.version", v, "")
	}
	f.addMap(scope.Attributes(), "otel.scope.")
}

// recordTime is the first of ts and observed that is a time, else received.
func recordTime(ts, observed pcommon.Timestamp, received time.Time) time.Time {
	if t, ok := timeOf(ts); ok {
		return t
	}
	if t, ok := timeOf(observed); ok {
		return t
	}
	return received
}

// timeOf is ts as a time; false when it is unset, or past 2262 (more nanoseconds
// than an int64 counts), which AsTime would wrap around to a time before 1970.
func timeOf(ts pcommon.Timestamp) (time.Time, bool) {
	if ts == 0 || uint64(ts) > math.MaxInt64 {
		return time.Time{}, false
	}
	return ts.AsTime(), true
}

func trimNewline(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

// Syslog facilities: logplex sends an app's output as local7 and its own lines as local3.
const (
	facilityApp    = 23
	facilityHeroku = 19
)

// priority is the syslog PRI of a record: see the package documentation.
func priority(n plog.SeverityNumber, text, source string) int {
	sev := severityOfNumber(n)
	if sev < 0 {
		sev = severityOfText(text)
	}
	if sev < 0 {
		return -1
	}
	if source == "heroku" {
		return facilityHeroku*8 + sev
	}
	return facilityApp*8 + sev
}

// severityOfNumber maps OpenTelemetry's 24 severity numbers to syslog's 8, the
// inverse of the data model's syslog table (Notice is INFO2, Alert FATAL3,
// Emergency FATAL4); -1 when unset or out of range.
func severityOfNumber(n plog.SeverityNumber) int {
	switch {
	case n >= 1 && n <= 8: // TRACE, DEBUG
		return 7
	case n == 9:
		return 6
	case n >= 10 && n <= 12:
		return 5
	case n >= 13 && n <= 16:
		return 4
	case n >= 17 && n <= 20:
		return 3
	case n >= 21 && n <= 22:
		return 2
	case n == 23:
		return 1
	case n == 24:
		return 0
	}
	return -1
}

// severityOfText reads the usual level names, in any case; -1 for others.
func severityOfText(t string) int {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "trace", "debug", "dbug", "trce":
		return 7
	case "info", "information", "informational":
		return 6
	case "notice":
		return 5
	case "warn", "warning":
		return 4
	case "error", "err", "eror":
		return 3
	case "critical", "crit", "fatal", "panic":
		return 2
	case "alert":
		return 1
	case "emergency", "emerg":
		return 0
	}
	return -1
}
