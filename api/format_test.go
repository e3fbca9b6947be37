package api_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/api"
)

func TestAppendText(t *testing.T) {
	at := time.Date(2024, 5, 1, 10, 0, 0, 123456789, time.UTC)
	tests := []struct {
		l    api.Line
		want string
	}{
		{api.Line{Time: at, Source: "app", Dyno: "web.1", Message: `Started GET "/"`},
			"2024-05-01T10:00:00.123456+00:00 app[web.1]: Started GET \"/\"\n"},
		{api.Line{Time: at.In(time.FixedZone("X", 3600)), Source: "heroku", Dyno: "router", Message: "at=info"},
			"2024-05-01T10:00:00.123456+00:00 heroku[router]: at=info\n"},
		{api.Line{Time: at, Source: "app", Message: "hello from logger"}, // no PROCID
			"2024-05-01T10:00:00.123456+00:00 app: hello from logger\n"},
		{api.Line{Time: at, Message: "no APP-NAME either"},
			"2024-05-01T10:00:00.123456+00:00 no APP-NAME either\n"},
		{api.Line{Received: at, Malformed: true, Message: `<13>garbage`},
			"2024-05-01T10:00:00.123456+00:00 drainpipe[malformed]: <13>garbage\n"},
	}
	for _, tt := range tests {
		if got := string(api.AppendText(nil, &tt.l)); got != tt.want {
			t.Errorf("AppendText(%+v)\n got %q\nwant %q", tt.l, got, tt.want)
		}
	}
}

// FuzzAppendText holds AppendText's times to time.Time.AppendFormat's.
func FuzzAppendText(f *testing.F) {
	f.Add(int64(1714557600123456789), 0)
	f.Add(int64(-9_000_000_000_000_000_000), 3600)
	f.Add(int64(9_223_372_036_854_775_807), -7200)
	f.Fuzz(func(t *testing.T, ns int64, offset int) {
		tm := time.Unix(0, ns).In(time.FixedZone("Z", offset%86400))
		l := api.Line{Time: tm, Source: "app", Dyno: "web.1", Message: "m"}
		want := tm.UTC().Format(api.HerokuTime) + " app[web.1]: m\n"
		if got := string(api.AppendText(nil, &l)); got != want {
			t.Fatalf("AppendText of %s\n got %q\nwant %q", tm, got, want)
		}
	})
}

// FuzzAppendJSON holds AppendJSON to encoding/json's bytes for the same Line.
func FuzzAppendJSON(f *testing.F) {
	f.Add(int64(1), int64(1714557600123456789), int64(0), "d_x", "myapp", "app", "web.1", "", 190, "", "", `Started GET "/"`, false, "")
	f.Add(int64(-5), int64(-1), int64(5), "\x00\b\f\t", "<a>&", "\u2028\u2029", "\xff\xfe", "h", -1, "m", "[sd x=\"1\"]", "é\\\"\x7f", true, "1/3")
	f.Fuzz(func(t *testing.T, id, tm, recv int64, drain, app, source, dyno, host string, prio int, msgid, sd, msg string, malformed bool, part string) {
		l := api.Line{ID: id, Time: time.Unix(0, tm).UTC(), Received: time.Unix(0, recv).In(time.FixedZone("X", int(recv%7)*3600)), Drain: drain, App: app,
			Source: source, Dyno: dyno, Host: host, Priority: prio, MsgID: msgid, StructuredData: sd, Message: msg, Malformed: malformed, Part: part}
		want, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		if got := api.AppendJSON(nil, &l); string(got) != string(want)+"\n" {
			t.Fatalf("AppendJSON\n got %s\nwant %s", got, want)
		}
	})
}
