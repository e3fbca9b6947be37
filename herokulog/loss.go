package herokulog

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/drainpipe/drainpipe"
)

// LossReport reports whether r is one of Heroku's in-band loss reports and, if so,
// how many lines it says were lost. It recognises:
//
//   - logplex's "Error L10 (output buffer overflow): N messages dropped since T."
//   - logplex's newer "drain 'd.…' dropped N messages since T"
//   - logplex's syslog-drain "Logplex drain buffer overflowed. N messages lost since T."
//   - log-shuttle's "Error L12: N messages dropped since T" (local buffer overflow)
//     and "Error L13: N messages lost since T." (local delivery error), with or
//     without a parenthesised title after the code.
//
// Other L codes are not losses of drained lines: L11 and L15 are about a `heroku
// logs --tail` session's buffer, L14 a TLS certificate that did not validate.
//
// A report without a count, or with one too large for an int, counts as 1: it is
// known that lines were lost, not how many. Only lines from the platform count: a
// record whose source is "app" is the app's own output, which may quote these
// texts, and a malformed record is not a report. A leading "- " is skipped: it is
// log-shuttle's empty STRUCTURED-DATA, left in the message by a parser that expects
// logplex's frames, which have none.
func LossReport(r drainpipe.Record) (n int, ok bool) {
	if r.Malformed || r.Source == "app" {
		return 0, false
	}
	m := strings.TrimPrefix(r.Message, "- ")
	switch {
	case strings.HasPrefix(m, "Error L1"):
		return lossCode(m[len("Error "):])
	case strings.HasPrefix(m, "drain ") || strings.HasPrefix(m, "Drain "):
		return drainDropped(m[len("drain "):])
	case strings.HasPrefix(m, "Logplex drain buffer overflowed."):
		return countOr1(m), true
	}
	return 0, false
}

// lossCode reads "L10 (output buffer overflow): N messages dropped since T." and
// its L12 and L13 kin.
func lossCode(m string) (int, bool) {
	code, rest := m[:min(3, len(m))], m[min(3, len(m)):]
	if code != "L10" && code != "L12" && code != "L13" {
		return 0, false
	}
	// "L100" is not "L10": the code must end at a separator.
	if rest != "" && rest[0] != ' ' && rest[0] != ':' && rest[0] != '(' {
		return 0, false
	}
	return countOr1(rest), true
}

// drainDropped reads "'d.…' dropped N messages since T" (the quotes optional); the
// count is what identifies this form, so it is required.
func drainDropped(m string) (int, bool) {
	name, rest, found := strings.Cut(m, " dropped ")
	if !found || name == "" || strings.ContainsAny(name, " \t") {
		return 0, false
	}
	digits := leadingDigits(rest)
	if digits == "" || !strings.HasPrefix(rest[len(digits):], " message") {
		return 0, false
	}
	return atoiOr1(digits), true
}

// countOr1 finds "N messages dropped" or "N messages lost" in m and returns N, or 1
// when m states no count.
func countOr1(m string) int {
	for rest := m; ; {
		i := strings.Index(rest, " messages ")
		if i < 0 {
			return 1
		}
		after := rest[i+len(" messages "):]
		j := i
		for j > 0 && rest[j-1] >= '0' && rest[j-1] <= '9' {
			j--
		}
		if j < i && (strings.HasPrefix(after, "dropped") || strings.HasPrefix(after, "lost")) {
			return atoiOr1(rest[j:i])
		}
		rest = after
	}
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

func atoiOr1(digits string) int {
	n, err := strconv.Atoi(digits)
	if err != nil {
		return 1
	}
	return n
}

// DropHeaders returns the lines a sender says it dropped before this request: the
// sum of the Logplex-Drop-Count and Logplex-Lost-Count headers that log-shuttle
// sends (repeated headers and comma-separated lists are summed). Values that are not
// non-negative integers are ignored; the sum saturates rather than overflows. The
// receiver puts it in drainpipe.Batch.Dropped.
func DropHeaders(h http.Header) int {
	total := 0
	for _, name := range []string{"Logplex-Drop-Count", "Logplex-Lost-Count"} {
		for _, v := range h.Values(name) {
			for part := range strings.SplitSeq(v, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(part))
				if err != nil || n < 0 {
					continue
				}
				total = addSat(total, n)
			}
		}
	}
	return total
}

// Loss is what a batch says Heroku lost before it.
type Loss struct {
	// Total is the batch's loss, each loss counted once (see the package doc).
	Total int
	// InLines is the part of Total that the batch's report lines state; the rest
	// (Total - InLines) only its headers do.
	InLines int
}

// BatchLoss applies the one rule of the package doc to b: the larger of its drop
// headers (b.Dropped) and the sum of its report lines.
func BatchLoss(b *drainpipe.Batch) Loss {
	inLines := 0
	for i := range b.Records {
		if n, ok := LossReport(b.Records[i]); ok {
			inLines = addSat(inLines, n)
		}
	}
	return Loss{Total: max(inLines, b.Dropped), InLines: inLines}
}

func addSat(a, b int) int {
	if b > math.MaxInt-a {
		return math.MaxInt
	}
	return a + b
}
