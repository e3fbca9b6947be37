package verify

import (
	"strconv"
	"strings"
)

// marker starts every line of a run, before the run id.
const marker = "drainpipe-verify "

// maxIDDigits bounds the id's digits so that parsing cannot overflow; MaxCount fits.
const maxIDDigits = 9

// Halves of a pair.
const (
	begin = 0
	end   = 1
)

var kinds = [2]string{begin: "begin", end: "end"}

// line is the message of one half of pair id.
func line(runID string, id, half int) string {
	return marker + runID + " " + strconv.Itoa(id) + " " + kinds[half]
}

// parseLine finds a line of the run in msg, which may carry a prefix from the
// store ("app[verify.1]: ") or sit inside a JSON document, and returns its pair
// id and half. The line must end msg or be followed by a byte that cannot
// continue a word, so "begins" or "end2" are not taken for a half.
func parseLine(msg, runID string) (id, half int, ok bool) {
	head := marker + runID + " "
	for {
		i := strings.Index(msg, head)
		if i < 0 {
			return 0, 0, false
		}
		msg = msg[i+len(head):]
		if id, half, ok := parseTail(msg); ok {
			return id, half, true
		}
	}
}

// parseTail parses "<id> <half>" at the start of s.
func parseTail(s string) (id, half int, ok bool) {
	n := 0
	for n < len(s) && n <= maxIDDigits && '0' <= s[n] && s[n] <= '9' {
		n++
	}
	if n == 0 || n > maxIDDigits || s[0] == '0' || n == len(s) || s[n] != ' ' {
		return 0, 0, false
	}
	id, err := strconv.Atoi(s[:n])
	if err != nil {
		return 0, 0, false
	}
	rest := s[n+1:]
	for h, k := range kinds {
		if strings.HasPrefix(rest, k) && (len(rest) == len(k) || !wordByte(rest[len(k)])) {
			return id, h, true
		}
	}
	return 0, 0, false
}

func wordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
