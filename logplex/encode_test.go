package logplex_test

import (
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/logplex"
)

func TestAppendMessageRoundTrip(t *testing.T) {
	t.Parallel()
	ts := time.Date(2022, 6, 13, 14, 52, 23, 621815000, time.UTC)
	tests := []struct {
		name string
		rec  drainpipe.Record
		want string
	}{
		{"router", drainpipe.Record{Priority: 158, Time: ts, Source: "heroku", Dyno: "router", Message: "at=info status=200"},
			"<158>1 2022-06-13T14:52:23.621815+00:00 host heroku router - at=info status=200\n"},
		{"empty fields", drainpipe.Record{Priority: -1, Time: ts, Message: ""},
			"<13>1 2022-06-13T14:52:23.621815+00:00 host - - - \n"},
		{"newlines in message", drainpipe.Record{Priority: 190, Time: ts, Source: "app", Dyno: "web.1", Message: "a\nb\n"},
			"<190>1 2022-06-13T14:52:23.621815+00:00 host app web.1 - a\nb\n\n"},
		{"message ends in CR", drainpipe.Record{Priority: 190, Time: ts, Source: "app", Dyno: "web.1", Message: "a\r"},
			"<190>1 2022-06-13T14:52:23.621815+00:00 host app web.1 - a\r"},
		{"offset written as UTC", drainpipe.Record{Priority: 190, Time: ts.In(time.FixedZone("x", -7*3600)), Source: "app", Dyno: "web.1", Message: "- [x]"},
			"<190>1 2022-06-13T07:52:23.621815-07:00 host app web.1 - - [x]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg := logplex.AppendMessage(nil, tt.rec)
			if string(msg) != tt.want {
				t.Fatalf("AppendMessage = %q, want %q", msg, tt.want)
			}
			body := logplex.AppendFrame([]byte("garbage\n"), msg)
			recs, st := logplex.AppendRecords(nil, body, logplex.Options{Received: received})
			if len(recs) != 2 || st.Malformed != 1 {
				t.Fatalf("got %+v, want the garbage and one record", recs)
			}
			got := recs[1]
			if got.Malformed || got.Message != tt.rec.Message || !got.Time.Equal(tt.rec.Time) || got.Host != "host" {
				t.Errorf("round trip gave %+v, want %+v", got, tt.rec)
			}
		})
	}
}

func TestAppendFrame(t *testing.T) {
	t.Parallel()
	if got := string(logplex.AppendFrame([]byte("x"), []byte("hello"))); got != "x5 hello" {
		t.Errorf("AppendFrame = %q", got)
	}
	if got := string(logplex.AppendFrame(nil, nil)); got != "0 " {
		t.Errorf("AppendFrame of nothing = %q", got)
	}
}
