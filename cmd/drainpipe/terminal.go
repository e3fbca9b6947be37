package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/drainpipe/drainpipe/api"
	"golang.org/x/term"
)

// Log lines are written by whoever runs the app, and by anyone who can make
// the app log what they send it (a URL, a header, a user name). Printed as
// they are on a terminal, their control characters are acted on rather than
// shown: ESC sequences set the window title (OSC 0), write the clipboard
// (OSC 52), clear the screen or move the cursor; CR overwrites the start of
// the line; a C1 CSI (U+009B) does what ESC [ does; bidi overrides reorder
// what is shown; an LF inside a message prints a second line that looks like
// a real one (`heroku[router]: at=info ...`). So on a terminal, text output
// shows them escaped, the way Go's strconv quoting does:
//
//	\a \b \f \n \r \v   those C0 controls
//	\x1b                every other C0 control but TAB (kept: it only moves
//	                    to the next tab stop), DEL (\x7f), and each byte that
//	                    is not part of valid UTF-8 (\xff)
//	\u009b              C1 controls (U+0080 to U+009F)
//	\u202e              bidi controls: U+061C, U+200E, U+200F, U+202A to
//	                    U+202E, U+2066 to U+2069
//
// A backslash is left as it is: the form is for reading, not to be parsed
// back (--json is for that), and escaping it would change every line that
// holds a Windows path or a JSON string. Redirected to a file or a pipe,
// output stays byte for byte what was stored.
//
// JSON escapes the C0 controls itself, but writes DEL, the C1 controls and
// the bidi controls as they are, and a terminal acts on those too (a C1 CSI
// encoded in UTF-8 is one to xterm and VTE). So --json on a terminal writes
// them as \u escapes: the same JSON value, shown rather than obeyed.

// isTerminal reports whether w is a terminal: where text output has its
// control characters escaped, and where progress is shown. It asks the
// terminal driver (an ioctl) rather than checking os.ModeCharDevice, which
// /dev/null has too.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// firstUnsafe returns the index of the first byte of b that a terminal would
// act on rather than show (see appendEscaped), or -1 when there is none. It
// is the scan that lets a plain line be printed without a copy: printable
// ASCII, by far the most common, costs one comparison a byte.
func firstUnsafe(b []byte) int {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if (c >= 0x20 && c != 0x7f) || c == '\t' {
				i++
				continue
			}
			return i
		}
		r, size := utf8.DecodeRune(b[i:])
		if (r == utf8.RuneError && size == 1) || isControlRune(r) {
			return i
		}
		i += size
	}
	return -1
}

// isControlRune reports whether r, a rune past ASCII, is a C1 control or a
// bidi control: characters a terminal acts on, or that reorder what it shows.
func isControlRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

const hexDigits = "0123456789abcdef"

// appendEscaped appends b to dst with every control character escaped, in
// the forms the comment at the top of this file lists; everything else,
// TAB and valid UTF-8 text included, is appended as it is.
func appendEscaped(dst, b []byte) []byte {
	for len(b) > 0 {
		i := firstUnsafe(b)
		if i < 0 {
			return append(dst, b...)
		}
		dst = append(dst, b[:i]...)
		b = b[i:]
		c := b[0]
		if c < utf8.RuneSelf {
			switch c {
			case '\a':
				dst = append(dst, `\a`...)
			case '\b':
				dst = append(dst, `\b`...)
			case '\f':
				dst = append(dst, `\f`...)
			case '\n':
				dst = append(dst, `\n`...)
			case '\r':
				dst = append(dst, `\r`...)
			case '\v':
				dst = append(dst, `\v`...)
			default:
				dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
			}
			b = b[1:]
			continue
		}
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
		} else {
			dst = appendUEscape(dst, r)
		}
		b = b[size:]
	}
	return dst
}

// tableCell is a value from the logs as a table or a sentence of ours shows it
// (an alert group's field values, an error a destination answered): its
// control characters escaped as above, TAB too, so that it can neither drive
// the terminal nor break a table's columns or lines. Unlike a log line it is
// escaped in a file too: it is part of our text, not a line stored.
func tableCell(s string) string {
	if firstUnsafe([]byte(s)) < 0 && strings.IndexByte(s, '\t') < 0 {
		return s
	}
	return strings.ReplaceAll(string(appendEscaped(nil, []byte(s))), "\t", `\t`)
}

// appendUEscape appends r, a rune below U+10000, as \uXXXX: Go's form of a C1
// or bidi control, and JSON's of any character.
func appendUEscape(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// appendJSONEscaped appends the JSON text b to dst with every character a
// terminal would act on (see firstUnsafe) written as a \u escape. JSON
// encoders leave only DEL, C1 and bidi controls for it to find (they escape
// C0 controls and replace invalid UTF-8), so the result is the same JSON
// value; a byte that is not UTF-8 becomes \ufffd, as an encoder would have
// written it.
func appendJSONEscaped(dst, b []byte) []byte {
	for len(b) > 0 {
		i := firstUnsafe(b)
		if i < 0 {
			return append(dst, b...)
		}
		dst = append(dst, b[:i]...)
		r, size := utf8.DecodeRune(b[i:])
		dst = appendUEscape(dst, r)
		b = b[i+size:]
	}
	return dst
}

// writeJSON writes v to w as json.Encoder does (one value, then a newline),
// with what a terminal would act on escaped when w is one: every --json
// output goes through it or through linePrinter.
func writeJSON(w io.Writer, v any) error {
	return writeJSONTo(w, v, isTerminal(w))
}

// writeJSONTo is writeJSON told whether w is a terminal, so that a test can
// say so without one.
func writeJSONTo(w io.Writer, v any, terminal bool) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if terminal {
		b = appendJSONEscaped(nil, b)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// escapeLast escapes, in place, the line p.buf[start:] that print has just
// appended, its own terminating newline kept, with appendSafe (appendEscaped
// for text, appendJSONEscaped for JSON). A line with nothing to escape is left
// as it is, uncopied.
func (p *linePrinter) escapeLast(start int, appendSafe func(dst, b []byte) []byte) {
	line := p.buf[start : len(p.buf)-1]
	i := firstUnsafe(line)
	if i < 0 {
		return
	}
	// The escaped form is longer, so the rest of the line moves to spare
	// first and is appended back escaped.
	p.spare = append(p.spare[:0], line[i:]...)
	p.buf = appendSafe(p.buf[:start+i], p.spare)
	p.buf = append(p.buf, '\n')
}

// jsonLinePrinter prints, through p, the JSON lines written to it. export on
// a terminal asks the server for JSON and shows the lines as tail does: in the
// text stream a newline inside a message could not be told from the end of a
// line, and could forge one on the screen.
type jsonLinePrinter struct {
	p    *linePrinter
	part []byte // a line cut at the end of a Write
}

// Write prints each whole line of b (with what the last Write left of one).
func (j *jsonLinePrinter) Write(b []byte) (int, error) {
	n := len(b)
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			j.part = append(j.part, b...)
			return n, nil
		}
		line := b[:i]
		if len(j.part) > 0 {
			j.part = append(j.part, line...)
			line = j.part
		}
		var l api.Line
		if err := json.Unmarshal(line, &l); err != nil {
			return 0, fmt.Errorf("read the export's lines: %w", err)
		}
		if err := j.p.print(l); err != nil {
			return 0, err
		}
		j.part, b = j.part[:0], b[i+1:]
	}
}

// Flush prints what is buffered; a line left unfinished means the stream was cut.
func (j *jsonLinePrinter) Flush() error {
	if len(j.part) > 0 {
		return errors.New("read the export's lines: the last one is cut short")
	}
	return j.p.flush()
}
