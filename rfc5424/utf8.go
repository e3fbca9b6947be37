package rfc5424

import (
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// ValidUTF8 returns b as a valid UTF-8 string, each invalid byte written as the four
// characters `\xNN`, so that nothing is lost and a person can still read the line.
func ValidUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string(appendEscaped(make([]byte, 0, len(b)+16), b))
}

// ValidString is ValidUTF8 for a string already in hand; a valid string is returned
// as is, without a copy, which is the common case on the hot path.
func ValidString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string(appendEscaped(make([]byte, 0, len(s)+16), []byte(s)))
}

func appendEscaped(dst, b []byte) []byte {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, '\\', 'x', hexDigits[b[0]>>4], hexDigits[b[0]&0xf])
		} else {
			dst = append(dst, b[:size]...)
		}
		b = b[size:]
	}
	return dst
}
