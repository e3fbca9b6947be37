package syslog_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/syslog"
)

// BenchmarkParser reads a stream of ~250-byte octet-counted RFC 5424 lines, as a Heroku
// syslog drain sends them.
func BenchmarkParser(b *testing.B) {
	var stream []byte
	lines := 0
	for len(stream) < 1<<20 {
		msg := fmt.Sprintf(`<158>1 2022-06-13T14:52:23.%06d+00:00 %s heroku router - - at=info method=GET path="/items/%d" host=cryptic-cliffs-27764.herokuapp.com request_id=59da6323-2bc4-4143-8677-cc66ccfb115f fwd="181.167.87.140" dyno=web.1 connect=0ms service=3ms status=200 bytes=6979`+"\n",
			lines%1000000, token, lines)
		stream = fmt.Appendf(stream, "%d %s", len(msg), msg)
		lines++
	}
	now := time.Now()
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		p := syslog.NewParser(bytes.NewReader(stream), 0)
		n := 0
		for {
			rec, err := p.Next(now)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil || rec.Malformed {
				b.Fatalf("record %d: %+v, %v", n, rec, err)
			}
			n++
		}
		if n != lines {
			b.Fatalf("%d records, want %d", n, lines)
		}
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
}
