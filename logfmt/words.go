package logfmt

import "math/bits"

// Keys and values are found by reading eight bytes at a time and marking, in one
// word, the bytes that end them: most of a router line is long values (request ids,
// hosts) that a byte loop walks one compare at a time.

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// below marks the bytes of x under n (n ≤ 0x80). Only the lowest mark is exact: a
// borrow can mark bytes above it, which is all the callers look at.
func below(x uint64, n byte) uint64 { return (x - ones*uint64(n)) &^ x & highs }

// equal marks the bytes of x equal to c; as with below, only the lowest mark is exact.
func equal(x uint64, c byte) uint64 {
	y := x ^ ones*uint64(c)
	return (y - ones) &^ y & highs
}

// spaces marks the bytes that separate pairs: <= ' ' and DEL.
func spaces(x uint64) uint64 { return below(x, ' '+1) | equal(x, 0x7f) }

// load reads s[i:i+8] as a little-endian word, so its lowest mark is its first byte.
func load(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// first turns a word's marks into the index of the first marked byte.
func first(m uint64) int { return bits.TrailingZeros64(m) / 8 }

// valueEnd returns the index of the first space byte in line from i, or len(line).
func valueEnd(line string, i int) int {
	for ; i+8 <= len(line); i += 8 {
		if m := spaces(load(line, i)); m != 0 {
			return i + first(m)
		}
	}
	for i < len(line) && class[line[i]]&space == 0 {
		i++
	}
	return i
}

// keyEndAt returns the index of the first byte that ends a key ('=', '"' or a space)
// in line from i, or len(line).
func keyEndAt(line string, i int) int {
	for ; i+8 <= len(line); i += 8 {
		x := load(line, i)
		if m := spaces(x) | equal(x, '=') | equal(x, '"'); m != 0 {
			return i + first(m)
		}
	}
	for i < len(line) && class[line[i]]&keyEnd == 0 {
		i++
	}
	return i
}

// quoteOrBackslash returns the index of the first '"' or '\' in line from i, or
// len(line).
func quoteOrBackslash(line string, i int) int {
	for ; i+8 <= len(line); i += 8 {
		x := load(line, i)
		if m := equal(x, '"') | equal(x, '\\'); m != 0 {
			return i + first(m)
		}
	}
	for i < len(line) && line[i] != '"' && line[i] != '\\' {
		i++
	}
	return i
}
