package syslog

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/rfc5424"
)

// DefaultMaxFrame is the frame size above which a frame is cut into malformed records.
const DefaultMaxFrame = 64 << 10

// maxCountDigits bounds an octet count: more digits cannot be a frame we would accept.
const maxCountDigits = 10

// Parser reads the frames of one syslog stream and parses them into records.
type Parser struct {
	r        *frameReader
	maxFrame int
	// over is what remains of an octet-counted frame longer than maxFrame.
	over int
	// inLine is set while the rest of an over-long newline-terminated frame is read.
	inLine bool
	// err is the read error to return once the records read before it are out.
	err error
}

// minFrame is the smallest buffer bufio.Reader will use.
const minFrame = 16

// NewParser returns a Parser reading r; frames longer than maxFrame bytes (DefaultMaxFrame
// when maxFrame <= 0, and at least 16) are cut into malformed records of that size.
func NewParser(r io.Reader, maxFrame int) *Parser {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrame
	}
	maxFrame = max(maxFrame, minFrame)
	// The buffer holds at most one frame: Peek reads a counted frame whole, and ReadSlice
	// cuts an over-long line at the same size. It grows only as a frame needs.
	return &Parser{r: newFrameReader(r, maxFrame), maxFrame: maxFrame}
}

// Next reads the next frame and returns its record, stamped with received. It returns
// io.EOF at a clean end of the stream, and any other read error once the bytes read
// before it have come out as records.
func (p *Parser) Next(received time.Time) (drainpipe.Record, error) {
	if p.err != nil {
		return drainpipe.Record{}, p.err
	}
	switch {
	case p.over > 0:
		return p.overChunk(nil, received)
	case p.inLine:
		return p.line(nil, received)
	}
	for {
		c, err := p.r.ReadByte()
		if err != nil {
			return drainpipe.Record{}, p.fail(err)
		}
		switch {
		case c == ' ' || c == '\r' || c == '\n':
			continue
		case isDigit(c):
			rec, ok, err := p.counted(c, received)
			if ok || err != nil {
				return rec, err
			}
			continue // an empty frame
		default:
			_ = p.r.UnreadByte() // cannot fail right after ReadByte
			return p.line(nil, received)
		}
	}
}

// counted reads a frame that starts with the digit c: octet-counted when the digits end
// in a space, newline-terminated otherwise. ok is false for an empty frame.
func (p *Parser) counted(c byte, received time.Time) (rec drainpipe.Record, ok bool, err error) {
	prefix := make([]byte, 1, maxCountDigits+1)
	prefix[0] = c
	n := int(c - '0')
	for {
		c, err := p.r.ReadByte()
		if err != nil {
			return p.partial(prefix, received, err), true, nil
		}
		prefix = append(prefix, c)
		if c == ' ' && len(prefix) <= maxCountDigits+1 {
			break
		}
		if !isDigit(c) || len(prefix) > maxCountDigits {
			rec, err := p.line(prefix, received)
			return rec, true, err
		}
		n = n*10 + int(c-'0')
	}
	switch {
	case n == 0:
		return drainpipe.Record{}, false, nil
	case n > p.maxFrame:
		p.over = n
		rec, err := p.overChunk(prefix, received)
		return rec, true, err
	}
	b, err := p.r.Peek(n)
	if err != nil {
		return p.partial(append(prefix, b...), received, err), true, nil
	}
	rec = parse(string(b), received)
	_, _ = p.r.Discard(n) // cannot fail: the n bytes are buffered
	return rec, true, nil
}

// overChunk returns the next piece of an over-long octet-counted frame as a malformed
// record; prefix is the count, kept with the first piece.
func (p *Parser) overChunk(prefix []byte, received time.Time) (drainpipe.Record, error) {
	n := min(p.over, p.maxFrame)
	b, err := p.r.Peek(n)
	if err != nil {
		p.over = 0
		if len(prefix)+len(b) == 0 {
			return drainpipe.Record{}, p.fail(err)
		}
		return p.partial(append(prefix, b...), received, err), nil
	}
	rec := rfc5424.Malformed(string(append(prefix, b...)), received)
	_, _ = p.r.Discard(n)
	p.over -= n
	return rec, nil
}

// line reads a newline-terminated frame that starts with prefix. A frame longer than
// maxFrame comes out in malformed pieces, the first and the last included.
func (p *Parser) line(prefix []byte, received time.Time) (drainpipe.Record, error) {
	b, err := p.r.ReadSlice('\n')
	cont := p.inLine
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		p.inLine = true
		return rfc5424.Malformed(string(append(prefix, b...)), received), nil
	case err != nil:
		p.inLine = false
		if len(prefix)+len(b) == 0 {
			return drainpipe.Record{}, p.fail(err)
		}
		p.err = err
	default:
		p.inLine = false
		b = bytes.TrimSuffix(b[:len(b)-1], []byte{'\r'})
	}
	frame := b
	if len(prefix) > 0 {
		frame = append(prefix, b...)
	}
	if cont && len(frame) == 0 && p.err == nil {
		return p.Next(received) // the over-long line ended right at a piece's end
	}
	if cont || len(frame) > p.maxFrame {
		return rfc5424.Malformed(string(frame), received), nil
	}
	return parse(string(frame), received), nil
}

// partial keeps the bytes of a frame that the stream ended inside of.
func (p *Parser) partial(b []byte, received time.Time, err error) drainpipe.Record {
	p.err = err
	return rfc5424.Malformed(string(b), received)
}

func (p *Parser) fail(err error) error {
	p.err = err
	return err
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
