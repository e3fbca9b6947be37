package cloudwatch

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
)

// attrsEvent is the part of a JSON event these tests read.
type attrsEvent struct {
	Message    string            `json:"message"`
	Part       int               `json:"part"`
	Fields     map[string]string `json:"fields"`
	Attributes map[string]string `json:"attributes"`
}

func TestFormatJSONAttributes(t *testing.T) {
	t.Parallel()
	attrs := []drainpipe.Attr{{Key: "trace_id", Value: "5b8efff798038103d269b633813fc60c"},
		{Key: `we"ird`, Value: "a\nb\xff"}, {Key: "http.route", Value: "/users"}}
	tests := []struct {
		name      string
		msg       string
		attrs     []drainpipe.Attr
		max       int
		wantAttrs bool
	}{
		{"whole line", "at=info status=200", attrs, maxEventBytes, true},
		{"split line: every part keeps them", strings.Repeat("x", 5000), attrs, 2000, true},
		{"split line with attributes as large as an event: parts go without", strings.Repeat("y", 5000),
			[]drainpipe.Attr{{Key: "big", Value: strings.Repeat("z", 3000)}}, 2000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := drainpipe.Record{App: "myapp", Source: "app", Dyno: "web.1", Message: tt.msg, Time: time.Unix(1, 0), Attrs: tt.attrs}
			var joined strings.Builder
			for _, m := range formatJSON(&rec, tt.max) {
				checkEvent(t, m, tt.max)
				var ev attrsEvent
				if err := json.Unmarshal([]byte(m), &ev); err != nil {
					t.Fatalf("%q: %v", m, err)
				}
				joined.WriteString(ev.Message)
				if got := len(ev.Attributes) > 0; got != tt.wantAttrs {
					t.Fatalf("event %q: attributes present %v, want %v", m, got, tt.wantAttrs)
				}
				if tt.wantAttrs && (ev.Attributes["trace_id"] != attrs[0].Value || ev.Attributes[`we"ird`] != "a\nb\uFFFD") {
					t.Fatalf("attributes %q", ev.Attributes)
				}
			}
			if joined.String() != tt.msg {
				t.Fatal("the events do not hold the whole message")
			}
		})
	}
}

// FuzzFormatAttrs: whatever the attributes, JSON events are valid, within the
// limit, and hold the whole message.
func FuzzFormatAttrs(f *testing.F) {
	f.Add("trace_id", "5b8efff798038103d269b633813fc60c", "at=info", 300)
	f.Add("\x00\"", "\xff\u2028", strings.Repeat("m", 900), 10)
	f.Fuzz(func(t *testing.T, key, value, msg string, max int) {
		max = 8192 + abs(max)%4096
		rec := drainpipe.Record{Source: "app", Message: msg, Time: time.Unix(0, 0),
			Attrs: []drainpipe.Attr{{Key: key, Value: value}, {Key: key + "2", Value: strings.Repeat(value, 3)}}}
		var joined strings.Builder
		for _, m := range formatJSON(&rec, max) {
			checkEvent(t, m, max)
			var ev attrsEvent
			if err := json.Unmarshal([]byte(m), &ev); err != nil {
				t.Fatalf("invalid JSON %q: %v", m, err)
			}
			joined.WriteString(ev.Message)
		}
		if want := strings.ToValidUTF8(msg, "\uFFFD"); joined.String() != want {
			t.Fatalf("events hold %q, want %q", joined.String(), want)
		}
	})
}
