package syslog

import (
	"bufio"
	"bytes"
	"io"
)

// initialBuffer is what a connection's reader holds before a frame needs more.
const initialBuffer = 4 << 10

// frameReader is the buffered reader under a Parser: a subset of bufio.Reader whose
// buffer starts small and grows, up to max, only as far as the frame being read
// needs, then shrinks back once it is consumed. An idle or quiet connection, or a
// thousand of them, holds a few KiB each, not a whole frame's worth.
type frameReader struct {
	rd   io.Reader
	buf  []byte
	r, w int // buf[r:w] is buffered, unread
	max  int
	err  error
}

func newFrameReader(rd io.Reader, max int) *frameReader {
	return &frameReader{rd: rd, max: max}
}

// fill reads once more into the buffer. It first makes room: it moves the unread
// bytes to the front when the frame being read (need bytes) would not fit after
// them, and doubles the buffer (up to max) only when it is full of unread bytes, so
// the buffer grows as bytes arrive, never ahead of them.
func (f *frameReader) fill(need int) {
	if f.err != nil {
		return
	}
	if f.r > 0 && (f.r == f.w || len(f.buf)-f.r < need) {
		copy(f.buf, f.buf[f.r:f.w])
		f.w -= f.r
		f.r = 0
	}
	if f.w == len(f.buf) && len(f.buf) < f.max {
		buf := make([]byte, min(f.max, max(2*len(f.buf), initialBuffer)))
		f.w = copy(buf, f.buf[f.r:f.w])
		f.r = 0
		f.buf = buf
	}
	for range 100 { // as bufio does: a reader that returns nothing, many times, is broken
		n, err := f.rd.Read(f.buf[f.w:])
		f.w += n
		if err != nil {
			f.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	f.err = io.ErrNoProgress
}

// consumed shrinks a buffer that grew for a large frame once it holds nothing.
func (f *frameReader) consumed() {
	if f.r == f.w && len(f.buf) > initialBuffer {
		f.buf, f.r, f.w = nil, 0, 0
	}
}

// ReadByte reads one byte, as bufio.Reader does.
func (f *frameReader) ReadByte() (byte, error) {
	for f.r == f.w {
		if f.err != nil {
			return 0, f.readErr()
		}
		f.fill(1)
	}
	c := f.buf[f.r]
	f.r++
	return c, nil
}

// UnreadByte unreads the byte ReadByte just returned.
func (f *frameReader) UnreadByte() error {
	if f.r == 0 {
		return bufio.ErrInvalidUnreadByte
	}
	f.r--
	return nil
}

// Peek returns the next n bytes (n at most max) without consuming them, or fewer
// and the error that stopped the reading.
func (f *frameReader) Peek(n int) ([]byte, error) {
	if n > f.max {
		return nil, bufio.ErrBufferFull
	}
	for f.w-f.r < n && f.err == nil {
		f.fill(n)
	}
	if f.w-f.r < n {
		return f.buf[f.r:f.w], f.readErr()
	}
	return f.buf[f.r : f.r+n], nil
}

// Discard skips n buffered bytes.
func (f *frameReader) Discard(n int) (int, error) {
	n = min(n, f.w-f.r)
	f.r += n
	f.consumed()
	return n, nil
}

// ReadSlice reads up to and including delim, as bufio.Reader does: it fails with
// bufio.ErrBufferFull, returning max bytes, when none of those is delim.
func (f *frameReader) ReadSlice(delim byte) ([]byte, error) {
	searched := 0
	for {
		if i := bytes.IndexByte(f.buf[f.r+searched:f.w], delim); i >= 0 {
			line := f.buf[f.r : f.r+searched+i+1]
			f.r += searched + i + 1
			f.consumed() // line keeps the old buffer alive for the caller
			return line, nil
		}
		searched = f.w - f.r
		switch {
		case f.err != nil:
			line := f.buf[f.r:f.w]
			f.r = f.w
			return line, f.readErr()
		case searched >= f.max:
			line := f.buf[f.r:f.w]
			f.r = f.w
			f.consumed()
			return line, bufio.ErrBufferFull
		}
		f.fill(searched + 1)
	}
}

// readErr returns the read error once the buffer is empty; a later call returns it
// again, as the stream stays ended.
func (f *frameReader) readErr() error { return f.err }
