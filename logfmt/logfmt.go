package logfmt

import "strings"

// Pair is one key and its value, unquoted.
type Pair struct {
	Key, Value string
}

// Pairs returns the pairs of line in order, duplicates included.
func Pairs(line string) []Pair {
	var pairs []Pair
	Scan(line, func(key, value string) bool {
		pairs = append(pairs, Pair{Key: key, Value: value})
		return true
	})
	return pairs
}

// Scan calls fn with each pair of line in order until fn returns false. Keys and
// values are substrings of line, so Scan allocates nothing except for a quoted value
// that holds an escape, which has to be rewritten.
func Scan(line string, fn func(key, value string) bool) {
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case class[c]&space != 0:
			i++
		case c == '"':
			_, i = quoted(line, i)
		case c == '=':
			i = skipValue(line, i+1)
		default:
			start := i
			i = keyEndAt(line, i)
			key := line[start:i]
			value := ""
			if i < len(line) && line[i] == '=' {
				value, i = readValue(line, i+1)
			}
			if !fn(key, value) {
				return
			}
		}
	}
}

// readValue reads the value that starts at line[i], just after a '='.
func readValue(line string, i int) (string, int) {
	if i < len(line) && line[i] == '"' {
		return quoted(line, i)
	}
	end := valueEnd(line, i)
	return line[i:end], end
}

// skipValue steps over a value with no key so that its contents are not read as pairs.
func skipValue(line string, i int) int {
	_, i = readValue(line, i)
	return i
}

// quoted reads the quoted string that opens at line[i] and returns it unescaped, with
// the index just past its closing quote (or len(line) when it is never closed).
func quoted(line string, i int) (string, int) {
	start := i + 1
	if j := quoteOrBackslash(line, start); j == len(line) {
		return line[start:], len(line)
	} else if line[j] == '"' {
		return line[start:j], j + 1
	}
	escaped := false
	for j := start; j < len(line); j++ {
		switch line[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			if !escaped {
				return line[start:j], j + 1
			}
			return unescape(line[start:j]), j + 1
		}
	}
	if !escaped {
		return line[start:], len(line)
	}
	return unescape(line[start:]), len(line)
}

// unescape rewrites \" and \\ in s; other backslashes stay as written, since paths and
// messages in real lines carry them literally.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Byte classes: a table lookup per byte is cheaper than the comparisons it stands
// for, and the scan loops are most of the cost of reading a router line.
const (
	space  = 1 << iota // separates pairs: ASCII whitespace and control bytes
	keyEnd             // ends a key: space, '=' or '"'
)

var class = func() (t [256]uint8) {
	for c := range t {
		if c <= ' ' || c == 0x7f {
			t[c] = space | keyEnd
		}
	}
	t['='] |= keyEnd
	t['"'] |= keyEnd
	return t
}()
