package otlp_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/otlp"
)

var (
	testDrain = drainpipe.Drain{ID: "d_test", App: "myapp"}
	received  = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	sent      = time.Date(2026, 11, 22, 9, 59, 58, 123456789, time.UTC)
)

// oneLog builds a request of one log record under a resource with the attributes
// resAttrs (key, value, key, value ...), in that order.
func oneLog(resAttrs []string, fill func(plog.LogRecord)) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	for i := 0; i+1 < len(resAttrs); i += 2 {
		rl.Resource().Attributes().PutStr(resAttrs[i], resAttrs[i+1])
	}
	fill(rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty())
	return ld
}

func TestLogRecords(t *testing.T) {
	traceID := pcommon.TraceID{0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x3, 0x81, 0x3, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0xc}
	spanID := pcommon.SpanID{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74}
	tests := []struct {
		name     string
		resource []string
		fill     func(plog.LogRecord)
		want     drainpipe.Record
		foreign  int
	}{{
		name:     "a Fir web dyno's line",
		resource: []string{"service.name", "myapp", "heroku.app.name", "myapp", "heroku.dyno", "web.1", "host.name", "ip-10-0-0-1", "cloud.region", "us-east-1"},
		fill: func(lr plog.LogRecord) {
			lr.SetTimestamp(pcommon.NewTimestampFromTime(sent))
			lr.SetSeverityNumber(plog.SeverityNumberInfo)
			lr.SetSeverityText("INFO")
			lr.Body().SetStr("Started GET \"/\"\n")
			lr.SetTraceID(traceID)
			lr.SetSpanID(spanID)
			lr.SetFlags(plog.DefaultLogRecordFlags.WithIsSampled(true))
			lr.Attributes().PutStr("http.route", "/")
			lr.Attributes().PutInt("http.status", 200)
		},
		want: drainpipe.Record{Time: sent, Priority: 23*8 + 6, Host: "ip-10-0-0-1", Source: "app", Dyno: "web.1",
			Message: `Started GET "/"`, Attrs: []drainpipe.Attr{
				{Key: "trace_id", Value: "5b8efff798038103d269b633813fc60c"}, {Key: "span_id", Value: "eee19b7ec3c1b174"},
				{Key: "trace_flags", Value: "1"}, {Key: "severity_text", Value: "INFO"}, {Key: "severity_number", Value: "9"},
				{Key: "http.route", Value: "/"}, {Key: "http.status", Value: "200"}, {Key: "cloud.region", Value: "us-east-1"},
			}},
	}, {
		name:     "Heroku's router, no timestamp: observed time",
		resource: []string{"service.name", "heroku-router"},
		fill: func(lr plog.LogRecord) {
			lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(sent))
			lr.Body().SetStr("at=info method=GET path=/ status=200")
		},
		want: drainpipe.Record{Time: sent, Priority: -1, Source: "heroku", Dyno: "router",
			Message: "at=info method=GET path=/ status=200", Attrs: []drainpipe.Attr{{Key: "service.name", Value: "heroku-router"}}},
	}, {
		name:     "no time at all: received; severity from text only",
		resource: []string{"service.instance.id", "worker.2"},
		fill: func(lr plog.LogRecord) {
			lr.SetSeverityText("warning")
			lr.Body().SetStr("slow")
		},
		want: drainpipe.Record{Time: received, Priority: 23*8 + 4, Source: "app", Dyno: "worker.2", Message: "slow",
			Attrs: []drainpipe.Attr{{Key: "severity_text", Value: "warning"}}},
	}, {
		name:     "timestamps past 2262: unset, never wrapped to 1969",
		resource: []string{"service.instance.id", "worker.2"},
		fill: func(lr plog.LogRecord) {
			lr.SetTimestamp(pcommon.Timestamp(math.MaxUint64))
			lr.SetObservedTimestamp(pcommon.Timestamp(1 << 63))
			lr.Body().SetStr("far")
		},
		want: drainpipe.Record{Time: received, Priority: -1, Source: "app", Dyno: "worker.2", Message: "far"},
	}, {
		name:     "a timestamp past 2262, a good observed time",
		resource: []string{"service.instance.id", "worker.2"},
		fill: func(lr plog.LogRecord) {
			lr.SetTimestamp(pcommon.Timestamp(math.MaxUint64))
			lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(sent))
			lr.Body().SetStr("observed")
		},
		want: drainpipe.Record{Time: sent, Priority: -1, Source: "app", Dyno: "worker.2", Message: "observed"},
	}, {
		name:     "structured body: JSON text plus fields, attributes win a clash",
		resource: []string{"heroku.process.type", "web"},
		fill: func(lr plog.LogRecord) {
			lr.SetTimestamp(pcommon.NewTimestampFromTime(sent))
			lr.SetSeverityNumber(plog.SeverityNumberFatal4)
			m := lr.Body().SetEmptyMap()
			m.PutStr("msg", "boom")
			m.PutEmptyMap("user").PutInt("id", 7)
			m.PutStr("level", "body's")
			lr.Attributes().PutStr("level", "attribute's")
		},
		want: drainpipe.Record{Time: sent, Priority: 23*8 + 0, Source: "app", Dyno: "web",
			Message: `{"level":"body's","msg":"boom","user":{"id":7}}`, Attrs: []drainpipe.Attr{
				{Key: "severity_number", Value: "24"}, {Key: "level", Value: "attribute's"},
				{Key: "msg", Value: "boom"}, {Key: "user.id", Value: "7"}, {Key: "body.level", Value: "body's"},
			}},
	}, {
		name:     "a resource naming another app: kept as a field, counted, the drain's app wins",
		resource: []string{"heroku.app.name", "otherapp", "heroku.app.id", "1b2c"},
		fill: func(lr plog.LogRecord) {
			lr.SetTimestamp(pcommon.NewTimestampFromTime(sent))
			lr.Body().SetInt(42)
		},
		want: drainpipe.Record{Time: sent, Priority: -1, Source: "app", Message: "42", Attrs: []drainpipe.Attr{
			{Key: "heroku.app.name", Value: "otherapp"}, {Key: "heroku.app.id", Value: "1b2c"}}},
		foreign: 1,
	}, {
		name:     "a record attribute and a resource attribute of one name",
		resource: []string{"env", "prod", "heroku.dyno", "web.3"},
		fill: func(lr plog.LogRecord) {
			lr.SetTimestamp(pcommon.NewTimestampFromTime(sent))
			lr.SetSeverityNumber(plog.SeverityNumberError2)
			lr.Attributes().PutStr("env", "staging")
			lr.Body().SetStr("x")
		},
		want: drainpipe.Record{Time: sent, Priority: 23*8 + 3, Source: "app", Dyno: "web.3", Message: "x", Attrs: []drainpipe.Attr{
			{Key: "severity_number", Value: "18"}, {Key: "env", Value: "staging"}, {Key: "resource.env", Value: "prod"}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := otlp.LogRecords(oneLog(tt.resource, tt.fill), testDrain, received)
			if len(m.Records) != 1 || m.Rejected != 0 || m.Foreign != tt.foreign {
				t.Fatalf("mapped %d records, %d rejected, %d foreign; want 1, 0, %d", len(m.Records), m.Rejected, m.Foreign, tt.foreign)
			}
			want := tt.want
			want.Drain, want.App, want.Received = testDrain.ID, testDrain.App, received
			got := m.Records[0]
			if !got.Time.Equal(want.Time) {
				t.Errorf("time %v, want %v", got.Time, want.Time)
			}
			got.Time = want.Time
			if !reflect.DeepEqual(got, want) {
				t.Errorf("record\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestSeverityNumbers(t *testing.T) {
	// The syslog severity each OpenTelemetry severity number gives, 0 (unset) to 24.
	want := []int{-1, 7, 7, 7, 7, 7, 7, 7, 7, 6, 5, 5, 5, 4, 4, 4, 4, 3, 3, 3, 3, 2, 2, 1, 0}
	for n, sev := range want {
		ld := oneLog(nil, func(lr plog.LogRecord) { lr.SetSeverityNumber(plog.SeverityNumber(n)) })
		got := otlp.LogRecords(ld, testDrain, received).Records[0].Priority
		wantPri := -1
		if sev >= 0 {
			wantPri = 23*8 + sev
		}
		if got != wantPri {
			t.Errorf("severity number %d: priority %d, want %d", n, got, wantPri)
		}
	}
}

func TestLogRecordsKeepOrderAcrossResources(t *testing.T) {
	ld := plog.NewLogs()
	for _, dyno := range []string{"web.1", "web.2"} {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("heroku.dyno", dyno)
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName("my.logger")
		for _, msg := range []string{"a", "b"} {
			sl.LogRecords().AppendEmpty().Body().SetStr(dyno + " " + msg)
		}
	}
	m := otlp.LogRecords(ld, testDrain, received)
	var got []string
	for _, r := range m.Records {
		got = append(got, r.Dyno+"|"+r.Message+"|"+r.Attrs[0].Key+"="+r.Attrs[0].Value)
	}
	want := []string{"web.1|web.1 a|otel.scope.name=my.logger", "web.1|web.1 b|otel.scope.name=my.logger",
		"web.2|web.2 a|otel.scope.name=my.logger", "web.2|web.2 b|otel.scope.name=my.logger"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("records %q, want %q", got, want)
	}
}

func TestBodyFieldsAreCapped(t *testing.T) {
	ld := oneLog(nil, func(lr plog.LogRecord) {
		m := lr.Body().SetEmptyMap()
		for i := range 3 * otlp.MaxBodyFields {
			m.PutInt(string(rune('a'+i%26))+string(rune('a'+i/26)), int64(i))
		}
	})
	r := otlp.LogRecords(ld, testDrain, received).Records[0]
	if len(r.Attrs) != otlp.MaxBodyFields {
		t.Fatalf("%d fields from a body of %d keys, want %d", len(r.Attrs), 3*otlp.MaxBodyFields, otlp.MaxBodyFields)
	}
	if len(r.Message) < 3*otlp.MaxBodyFields*5 {
		t.Fatalf("the message lost part of the body: %d bytes", len(r.Message))
	}
}
