package bench

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// Protocols a run speaks.
const (
	// Logplex is Heroku's HTTPS drain: octet-counted syslog frames, Basic auth.
	Logplex = "logplex"
	// OTLP is OpenTelemetry logs over OTLP/HTTP in protobuf, as Heroku Fir's
	// telemetry drains send them: POST /v1/logs with the x-drainpipe-token header.
	OTLP = "otlp"
)

// otlpTarget turns a drain URL (http://ID:SECRET@host/logs) into the OTLP logs
// endpoint of its server and the drain's secret.
func otlpTarget(drainURL string) (endpoint, secret string, err error) {
	u, err := url.Parse(drainURL)
	if err != nil {
		return "", "", fmt.Errorf("--url: %w", err)
	}
	secret, _ = u.User.Password()
	u.User = nil
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/logs"), "/") + "/v1/logs"
	return u.String(), secret, nil
}

// OTLPBody builds an ExportLogsServiceRequest of n log records with the same router
// lines as Body, under one resource (a Fir web dyno), each with a timestamp, a
// severity, a trace context and two attributes, as an instrumented app sends them.
func OTLPBody(seed, n, size int, t time.Time) []byte {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "bench")
	rl.Resource().Attributes().PutStr("heroku.dyno", fmt.Sprintf("web.%d", seed%4+1))
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("drainpipe-bench")
	for i := range n {
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(t))
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.SetTraceID(pcommon.TraceID{byte(seed), byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14})
		lr.SetSpanID(pcommon.SpanID{byte(i), 1, 2, 3, 4, 5, 6, 7})
		lr.Attributes().PutStr("http.route", fmt.Sprintf("/items/%d", i))
		lr.Attributes().PutInt("http.response.status_code", 200)
		lr.Body().SetStr(routerText(seed, i, size))
	}
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		panic(err) // marshalling what was just built cannot fail
	}
	return body
}
