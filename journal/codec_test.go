package journal

import (
	"math"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
)

// TestCodecRoundTrip encodes batches with and without attributes and decodes them
// back unchanged.
func TestCodecRoundTrip(t *testing.T) {
	at := time.Unix(1700000000, 123).UTC()
	tests := []struct {
		name  string
		batch drainpipe.Batch
	}{
		{"no records", drainpipe.Batch{Drain: "d_1", App: "app", Received: at}},
		{"logplex line", drainpipe.Batch{Drain: "d_1", App: "app", Key: "frame", Received: at, Dropped: 2,
			Records: []drainpipe.Record{{Time: at, Priority: 190, Host: "host", Source: "app", Dyno: "web.1", Message: "hello"}}}},
		{"attributes", drainpipe.Batch{Drain: "d_2", App: "fir", Received: at,
			Records: []drainpipe.Record{
				{Time: at, Priority: 14, Source: "app", Dyno: "web.1", Message: "GET /", Attrs: []drainpipe.Attr{
					{Key: "trace_id", Value: "5b8efff798038103d269b633813fc60c"}, {Key: "http.route", Value: "/"}, {Key: "", Value: ""}}},
				{Time: at, Priority: -1, Message: "no attrs", Malformed: true},
			}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := appendBatch(nil, &tt.batch)
			if est := encodedSize(&tt.batch); est < len(data) {
				t.Errorf("encodedSize = %d, below the encoding's %d bytes: encode would grow its buffer", est, len(data))
			}
			got, err := decodeBatches(data)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.batch
			for i := range want.Records {
				want.Records[i].Drain, want.Records[i].App, want.Records[i].Received = want.Drain, want.App, want.Received
			}
			if len(want.Records) == 0 {
				want.Records = []drainpipe.Record{}
			}
			if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestCodecReadsVersion1 decodes a message written by drainpipe before records had
// attributes (testdata/batch-v1.bin), as a journal upgraded in place holds.
func TestCodecReadsVersion1(t *testing.T) {
	data, err := os.ReadFile("testdata/batch-v1.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeBatches(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Key != "k" || got[0].Dropped != 3 || len(got[0].Records) != 2 {
		t.Fatalf("decoded %+v", got)
	}
	r := got[0].Records[0]
	if r.Message != "hello\nworld" || r.StructuredData != `[a b="c"]` || r.MsgID != "m" || !r.Malformed || r.Attrs != nil {
		t.Fatalf("first record %+v", r)
	}
	if r := got[0].Records[1]; r.Dyno != "router" || r.Message != "at=info" || r.Priority != -1 {
		t.Fatalf("second record %+v", r)
	}
}

// TestCodecTimesOutOfRange: a record time that int64 nanoseconds cannot count (or
// the zero Time) decodes as the zero Time, which sinks read as "use Received",
// never as a date it wrapped around to; the edges of the range stay exact.
func TestCodecTimesOutOfRange(t *testing.T) {
	received := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Time{}},
		{"year 1", time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), time.Time{}},
		{"zero", time.Time{}, time.Time{}},
		{"just after 2262", time.Unix(0, math.MaxInt64).Add(time.Nanosecond), time.Time{}},
		{"just before 1678", time.Unix(0, math.MinInt64).Add(-time.Nanosecond), time.Time{}},
		{"last nanosecond", time.Unix(0, math.MaxInt64), time.Unix(0, math.MaxInt64).UTC()},
		{"first nanosecond", time.Unix(0, math.MinInt64), time.Unix(0, math.MinInt64).UTC()},
		{"epoch", time.Unix(0, 0), time.Unix(0, 0).UTC()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := drainpipe.Batch{Drain: "d_1", App: "app", Received: received,
				Records: []drainpipe.Record{{Time: tt.in, Priority: 190, Message: "x", Malformed: true}}}
			got, err := decodeBatches(appendBatch(nil, &b))
			if err != nil {
				t.Fatal(err)
			}
			r := got[0].Records[0]
			if !r.Time.Equal(tt.want) || r.Time.IsZero() != tt.want.IsZero() {
				t.Errorf("time %v decodes as %v, want %v", tt.in, r.Time, tt.want)
			}
			if !r.Malformed || r.Message != "x" || !r.Received.Equal(received) {
				t.Errorf("other fields changed: %+v", r)
			}
		})
	}
}
