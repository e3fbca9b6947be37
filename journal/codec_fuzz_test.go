package journal

import (
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
)

// FuzzDecodeBatches feeds arbitrary bytes to the journal decoder: it must never
// panic, and what it accepts must encode back to the same bytes.
func FuzzDecodeBatches(f *testing.F) {
	b := drainpipe.Batch{Drain: "d_1", App: "app", Key: "k", Received: time.Unix(1, 2), Dropped: 3,
		Records: []drainpipe.Record{{Time: time.Unix(3, 4), Priority: 190, Host: "host", Source: "app",
			Dyno: "web.1", Message: "hello\nworld", Malformed: true}}}
	f.Add(appendBatch(nil, &b))
	f.Add(appendBatch(appendBatch(nil, &b), &drainpipe.Batch{}))
	b.Records[0].Attrs = []drainpipe.Attr{{Key: "trace_id", Value: "abc"}}
	f.Add(appendBatch(nil, &b))
	if v1, err := os.ReadFile("testdata/batch-v1.bin"); err == nil {
		f.Add(v1)
	}
	f.Add(appendBatch(nil, &drainpipe.Batch{Records: []drainpipe.Record{{Message: "no time"}}}))
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		batches, err := decodeBatches(data)
		if err != nil {
			return
		}
		var again []byte
		for i := range batches {
			again = appendBatch(again, &batches[i])
		}
		back, err := decodeBatches(again)
		if err != nil || len(back) != len(batches) {
			t.Fatalf("re-encoded batches do not decode: %v", err)
		}
		for i := range back {
			if !reflect.DeepEqual(back[i], batches[i]) {
				t.Fatalf("batch %d changed in a round trip:\n%+v\n%+v", i, back[i], batches[i])
			}
		}
	})
}
