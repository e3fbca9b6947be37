package rfc5424_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/rfc5424"
)

func TestParse(t *testing.T) {
	t.Parallel()
	ts := time.Date(2022, 6, 13, 14, 52, 23, 621815000, time.UTC)
	rec := func(pri int, msgID, sd, msg string) drainpipe.Record {
		return drainpipe.Record{Received: received, Time: ts, Priority: pri, Host: "host", Source: "app",
			Dyno: "web.1", MsgID: msgID, StructuredData: sd, Message: msg}
	}
	const hdr = "<190>1 2022-06-13T14:52:23.621815+00:00 host app web.1 "
	tests := []struct {
		name   string
		msg    string
		sd     bool
		want   drainpipe.Record
		wantOK bool
	}{
		{"logplex", hdr + "- hello\n", false, rec(190, "", "", "hello"), true},
		{"message starting with dash", hdr + "- - hi", false, rec(190, "", "", "- hi"), true},
		{"message starting with bracket", hdr + "- [x] hi", false, rec(190, "", "", "[x] hi"), true},
		{"msgid kept", hdr + "ID47 hi", false, rec(190, "ID47", "", "hi"), true},
		{"no message", hdr + "-", false, rec(190, "", "", ""), true},
		{"empty message", hdr + "- \n", false, rec(190, "", "", ""), true},
		{"one newline stripped", hdr + "- a\n\n", false, rec(190, "", "", "a\n"), true},
		{"crlf stripped", hdr + "- a\r\n", false, rec(190, "", "", "a"), true},
		{"lone cr kept", hdr + "- a\r", false, rec(190, "", "", "a\r"), true},
		{"no procid (logger without a PID)", "<190>1 2022-06-13T14:52:23.621815+00:00 host app - - hi", false,
			drainpipe.Record{Received: received, Time: ts, Priority: 190, Host: "host", Source: "app", Message: "hi"}, true},
		{"no app-name", "<190>1 2022-06-13T14:52:23.621815+00:00 host - web.1 - hi", false,
			drainpipe.Record{Received: received, Time: ts, Priority: 190, Host: "host", Dyno: "web.1", Message: "hi"}, true},
		{"pri zero", "<0>1 2022-06-13T14:52:23.621815Z host app web.1 - a", false, rec(0, "", "", "a"), true},
		{"sd nil", hdr + "- - hi", true, rec(190, "", "", "hi"), true},
		{"sd nil no message", hdr + "- -", true, rec(190, "", "", ""), true},
		{"sd elements", hdr + `- [a b="1"][c d="\]\"x"] hi`, true, rec(190, "", `[a b="1"][c d="\]\"x"]`, "hi"), true},
		{"sd only", hdr + `- [a b="1"]`, true, rec(190, "", `[a b="1"]`, ""), true},
		{"no sd, message follows msgid", hdr + "- hello world", true, rec(190, "", "", "hello world"), true},
		{"sd glued to text is message", hdr + "- [a]b c", true, rec(190, "", "", "[a]b c"), true},
		{"unterminated sd is message", hdr + "- [a b c", true, rec(190, "", "", "[a b c"), true},
		{"empty sd element is message", hdr + "- [] c", true, rec(190, "", "", "[] c"), true},
		{"dash glued to text is message", hdr + "- -x", true, rec(190, "", "", "-x"), true},
		{"invalid UTF-8 escaped", hdr + "- caf\xe9", false, rec(190, "", "", `caf\xe9`), true},
		{"no pri", "190>1 2022-06-13T14:52:23Z host app web.1 - a", false, malformedRec("190>1 2022-06-13T14:52:23Z host app web.1 - a"), false},
		{"pri too big", "<192>1 2022-06-13T14:52:23Z host app web.1 - a", false, malformedRec("<192>1 2022-06-13T14:52:23Z host app web.1 - a"), false},
		{"pri too long", "<0190>1 2022-06-13T14:52:23Z host app web.1 - a", false, malformedRec("<0190>1 2022-06-13T14:52:23Z host app web.1 - a"), false},
		{"no version", "<190> 2022-06-13T14:52:23Z host app web.1 - a", false, malformedRec("<190> 2022-06-13T14:52:23Z host app web.1 - a"), false},
		{"double space", "<190>1  2022-06-13T14:52:23Z host app web.1 - a", false, malformedRec("<190>1  2022-06-13T14:52:23Z host app web.1 - a"), false},
		{"no msgid", "<190>1 2022-06-13T14:52:23Z host app web.1", false, malformedRec("<190>1 2022-06-13T14:52:23Z host app web.1"), false},
		{"control byte in header", "<190>1 2022-06-13T14:52:23Z ho\x01st app web.1 - a", false, malformedRec("<190>1 2022-06-13T14:52:23Z ho\x01st app web.1 - a"), false},
		{"non-ASCII in header", "<190>1 2022-06-13T14:52:23Z hôst app web.1 - a", false, malformedRec("<190>1 2022-06-13T14:52:23Z hôst app web.1 - a"), false},
		{"malformed keeps newline, escapes bytes", "junk\xff\n", false, malformedRec(`junk\xff` + "\n"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := rfc5424.Parse(tt.msg, rfc5424.Options{Received: received, StructuredData: tt.sd})
			if ok != tt.wantOK || !recordsEqual(got, tt.want) {
				t.Errorf("Parse(%q) =\n %+v, %v\nwant %+v, %v", tt.msg, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// received is the receive time stamped on every record in the tests.
var received = time.Date(2026, 11, 22, 4, 0, 0, 123456000, time.UTC)

func recordsEqual(a, b drainpipe.Record) bool {
	ta, tb := a.Time, b.Time
	a.Time, b.Time = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b) && ta.Equal(tb)
}

func malformedRec(msg string) drainpipe.Record {
	return drainpipe.Record{Received: received, Time: received, Priority: -1, Message: msg, Malformed: true}
}

func TestParseTimestamps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ts   string
		want time.Time // zero: does not parse, so Time is Received
	}{
		{"2022-06-13T14:52:23Z", time.Date(2022, 6, 13, 14, 52, 23, 0, time.UTC)},
		{"2022-06-13T14:52:23.6Z", time.Date(2022, 6, 13, 14, 52, 23, 600000000, time.UTC)},
		{"2022-06-13T14:52:23.621815+00:00", time.Date(2022, 6, 13, 14, 52, 23, 621815000, time.UTC)},
		{"2022-06-13T14:52:23.123456789123Z", time.Date(2022, 6, 13, 14, 52, 23, 123456789, time.UTC)},
		{"2010-10-06T21:51:37-07:00", time.Date(2010, 10, 7, 4, 51, 37, 0, time.UTC)},
		{"2010-10-06T21:51:37+05:30", time.Date(2010, 10, 6, 16, 21, 37, 0, time.UTC)},
		{"2024-02-29t00:00:00z", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"-", time.Time{}},
		{"2023-02-29T00:00:00Z", time.Time{}},
		{"2022-13-01T00:00:00Z", time.Time{}},
		{"2022-06-13T24:00:00Z", time.Time{}},
		{"2022-06-13T14:52:60Z", time.Time{}},
		{"2022-06-13T14:52:23", time.Time{}},
		{"2022-06-13T14:52:23.Z", time.Time{}},
		{"2022-06-13T14:52:23Z+00:00", time.Time{}},
		{"2022-06-13T14:52:23+0000", time.Time{}},
		{"2022-06-13 14:52:23Z", time.Time{}},
		{"0000-01-01T00:00:00+01:00", time.Time{}},
		{"Jun 13 14:52:23", time.Time{}},
		// Outside what a record can carry (int64 nanoseconds): no time, not a wrapped date.
		{"9999-12-31T23:59:59Z", time.Time{}},
		{"0001-01-01T00:00:00Z", time.Time{}},
		{"1677-09-21T00:12:43.145224191Z", time.Time{}},
		{"2262-04-11T23:47:16.854775808Z", time.Time{}},
		{"2262-04-11T23:47:16-00:01", time.Time{}},
		{"1677-09-21T00:12:44Z", time.Date(1677, 9, 21, 0, 12, 44, 0, time.UTC)},
		{"2262-04-11T23:47:16.854775807Z", time.Date(2262, 4, 11, 23, 47, 16, 854775807, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.ts, func(t *testing.T) {
			t.Parallel()
			rec, ok := rfc5424.Parse("<13>1 "+tt.ts+" host app web.1 - m", rfc5424.Options{Received: received})
			if !ok {
				t.Fatalf("header did not parse: %+v", rec)
			}
			want := tt.want
			// A timestamp given and not taken is kept, as text, in an attribute.
			var kept []drainpipe.Attr
			if want.IsZero() {
				want = received
				if field, _, _ := strings.Cut(tt.ts, " "); field != "-" { // the header's first field
					kept = []drainpipe.Attr{{Key: rfc5424.TimestampAttr, Value: field}}
				}
			}
			if !rec.Time.Equal(want) {
				t.Errorf("Time = %v, want %v", rec.Time, want)
			}
			if !slices.Equal(rec.Attrs, kept) {
				t.Errorf("Attrs = %v, want %v", rec.Attrs, kept)
			}
		})
	}
}
