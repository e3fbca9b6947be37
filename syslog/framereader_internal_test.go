package syslog

import (
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// stallingReader returns its data, then blocks (as a stalled connection does) by
// reporting nothing more: the test reads only what was sent.
type stallingReader struct{ data []string }

func (r *stallingReader) Read(b []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.ErrNoProgress
	}
	n := copy(b, r.data[0])
	if r.data[0] = r.data[0][n:]; r.data[0] == "" {
		r.data = r.data[1:]
	}
	return n, nil
}

// The parser's buffer grows only as far as the frame being read needs, and shrinks
// back once a large frame is consumed: a connection that announced a large frame
// and stalled holds a few KiB, not MaxFrame.
func TestFrameReaderGrowsAsNeeded(t *testing.T) {
	big := strings.Repeat("x", 60000)
	frame := "<13>1 2026-01-01T00:00:00Z host app web.1 - - " + big
	for _, tc := range []struct {
		name   string
		sent   []string
		atMost int // buffer size after reading what was sent
	}{
		{"a count and nothing more", []string{"70000 "}, initialBuffer},
		{"a small frame", []string{"12 <13>1 - - -\n"}, initialBuffer},
		{"a large frame, consumed", []string{strconv.Itoa(len(frame)) + " " + frame}, initialBuffer},
		{"a large frame, half sent", []string{strconv.Itoa(len(frame)) + " " + frame[:30000]}, 32 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewParser(&stallingReader{data: tc.sent}, 0)
			for {
				if _, err := p.Next(time.Now()); err != nil {
					break
				}
			}
			if got := cap(p.r.buf); got > tc.atMost {
				t.Errorf("buffer of %d bytes, want at most %d", got, tc.atMost)
			}
		})
	}
}
