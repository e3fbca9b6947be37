package logplex

import "strconv"

// unit is one piece of a body as the framing rules cut it: s[start:end], count included.
// For a frame that counted correctly, msg is where its message starts (msg == end for a
// zero-length frame); for a bad unit, msg is -1.
type unit struct {
	start, msg, end int
}

// nextUnit returns the unit at or after pos, skipping whitespace; ok is false at the end.
func nextUnit(s string, pos int) (u unit, ok bool) {
	for pos < len(s) && isSpace(s[pos]) {
		pos++
	}
	if pos == len(s) {
		return unit{}, false
	}
	u.start = pos
	n, i := 0, pos
	for ; i < len(s) && isDigit(s[i]); i++ {
		if n <= len(s) { // stop growing once past any possible length: no overflow
			n = n*10 + int(s[i]-'0')
		}
	}
	if i > pos && i < len(s) && s[i] == ' ' && n <= len(s)-(i+1) {
		return unit{start: pos, msg: i + 1, end: i + 1 + n}, true
	}
	return unit{start: pos, msg: -1, end: resync(s, pos)}, true
}

// resync returns the end of a bad unit that starts at pos: the line break before the
// next line that starts like a frame, or the end of the body. Trailing CR and LF are
// left out, to be skipped as whitespace.
func resync(s string, pos int) int {
	end := len(s)
	for i := pos; i < len(s); i++ {
		if s[i] == '\n' && looksLikeFrame(s[i+1:]) {
			end = i
			break
		}
	}
	for end > pos && (s[end-1] == '\n' || s[end-1] == '\r') {
		end--
	}
	return end
}

// looksLikeFrame reports whether s starts with a count-like token (a digit or '-' and at
// most 19 more bytes that are not whitespace), a space and '<'.
func looksLikeFrame(s string) bool {
	if s == "" || !isDigit(s[0]) && s[0] != '-' {
		return false
	}
	for i := 1; i < len(s) && i <= 20; i++ {
		switch {
		case s[i] == ' ':
			return i+1 < len(s) && s[i+1] == '<'
		case isSpace(s[i]) || s[i] == '\t':
			return false
		}
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\r' || c == '\n' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// AppendFrame appends msg framed as "<len> <msg>", as logplex sends it.
func AppendFrame(dst, msg []byte) []byte {
	dst = strconv.AppendInt(dst, int64(len(msg)), 10)
	dst = append(dst, ' ')
	return append(dst, msg...)
}
