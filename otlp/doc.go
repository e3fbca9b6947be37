// Package otlp receives OpenTelemetry logs and metrics (OTLP), as Heroku's Fir
// generation sends them through telemetry drains: it decodes requests with the
// OpenTelemetry project's own pdata packages, maps each log record and metric data
// point to a drainpipe.Record, and appends them to the journal before the sender is
// answered, as the logplex receiver does.
//
// The HTTP transport (POST /v1/logs, /v1/metrics) lives in package httpd; the gRPC
// transport is here (GRPCServer). Both call a Receiver.
//
// # Log records
//
// The drain decides the app: a drain belongs to one app, whatever a resource says.
// A resource's heroku.app.name that names another app is kept as a field and counted
// in drainpipe_otlp_foreign_app_records_total. The other fields (see the README's
// mapping table):
//
//   - Source is "heroku" for Heroku's own components (service.name "heroku" or
//     "heroku-<part>"), "app" otherwise.
//   - Dyno is the first of heroku.dyno, heroku.dyno.name, dyno, service.instance.id,
//     heroku.process.type; else the <part> of a "heroku-<part>" service name.
//   - Host is the first of host.name, host.id, cloud.availability_zone, cloud.region.
//   - Time is the record's timestamp, else its observed timestamp, else the time
//     the request was received. A timestamp past 2262 (over 2^63-1 nanoseconds)
//     counts as unset, rather than wrap around to a time before 1970.
//   - Priority is facility local7 (local3 for Source heroku, as logplex's own lines)
//     with the severity number mapped to syslog's severity (TRACE and DEBUG 7, INFO
//     6, INFO2-4 5, WARN 4, ERROR 3, FATAL 2, FATAL3 1, FATAL4 0), or read from the
//     severity text when the number is unset; -1 when the record has neither.
//   - Message is a string body as sent (one trailing newline removed); any other
//     body as text: JSON for maps and arrays, base64 for bytes.
//   - Attrs hold everything else, so that nothing is lost: trace_id, span_id,
//     trace_flags, severity_text, severity_number, event_name, the record's
//     attributes, the top-level fields of a map body (nested maps flattened with
//     dots, at most MaxBodyFields), the scope's name, version and attributes, and the
//     resource attributes that did not become a field above. Keys are unique: a
//     later key that repeats an earlier one with another value is kept under a
//     prefix ("attr.", "body.", "otel.scope.", "resource.").
//
// # Metric data points
//
// Each data point of a gauge, sum, histogram or exponential histogram becomes one
// record with MsgID metrics.PointMsgID, its values in Attrs (see metrics.Point) and
// a readable summary as Message; package metrics aggregates them into series. A data
// point that cannot be read (histogram buckets that do not match their bounds, an
// exponential scale out of range, a summary, a metric with no name) is rejected and
// counted in the answer's partial success; the others are kept.
package otlp
