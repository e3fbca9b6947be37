package syslog_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
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

// stalled returns data, then reports that it has nothing more without an error,
// as a connection whose sender stalled does (until the read deadline).
type stalled struct{ data []byte }

func (s *stalled) Read(b []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.ErrNoProgress
	}
	n := copy(b, s.data)
	s.data = s.data[n:]
	return n, nil
}

// BenchmarkStalledConnectionMemory holds 1,000 parsers, each of a connection that
// sent an octet count of 70,000 and 1,000 bytes of the frame and stalled, and
// reports the heap each one holds.
func BenchmarkStalledConnectionMemory(b *testing.B) {
	sent := []byte("70000 " + strings.Repeat("x", 1000))
	var perConn float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		parsers := make([]*syslog.Parser, 1000)
		for i := range parsers {
			parsers[i] = syslog.NewParser(&stalled{data: sent}, 0)
			_, _ = parsers[i].Next(time.Now())
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perConn = float64(after.HeapAlloc-before.HeapAlloc) / float64(len(parsers))
		runtime.KeepAlive(parsers)
	}
	b.ReportMetric(perConn, "heap-B/conn")
}
