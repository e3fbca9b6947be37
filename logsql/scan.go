package logsql

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// kind is what a token of the filter part is.
type kind int

const (
	term  kind = iota // a filter: a word, a phrase, field:value, key=value ...
	open              // (
	close             // )
	or                // OR, or
	and               // AND, and
	not               // NOT, not, a leading - or !
)

// token is one unit of the filter part, with its text as typed.
type token struct {
	kind kind
	text string
}

// scan splits the filter part of a query into tokens and returns the rest of the
// query from its first top-level `|` (the pipes), or "" when there is none.
// Quotes and brackets are kept whole inside a term, so `desc="Request timeout"`
// and `status:range[500, 600)` are one term each.
func scan(s string) (toks []token, pipes string, err error) {
	depth := 0
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			i += size
		case r == '|':
			if depth > 0 {
				return nil, "", fmt.Errorf("a ( is not closed before the | that starts the pipes (quote a | that is text)")
			}
			return toks, s[i:], nil
		case r == '(':
			toks = append(toks, token{open, "("})
			depth++
			i++
		case r == ')':
			if depth == 0 {
				return nil, "", fmt.Errorf("a ) closes nothing: %q", clip(s[i:]))
			}
			if toks[len(toks)-1].kind == open {
				return nil, "", fmt.Errorf("nothing between ( and )")
			}
			toks = append(toks, token{close, ")"})
			depth--
			i++
		case (r == '-' || r == '!') && negates(s[i+1:]):
			toks = append(toks, token{not, s[i : i+1]})
			i++
		default:
			end, err := termEnd(s, i)
			if err != nil {
				return nil, "", err
			}
			toks = append(toks, word(s[i:end]))
			i = end
		}
	}
	if depth > 0 {
		return nil, "", fmt.Errorf("a ( is not closed: add a ) or quote the (")
	}
	return toks, "", nil
}

// negates reports whether a - or ! followed by rest is a negation rather than
// the start of a term (LogsQL's != and !~ filters, or a lone - in text like "a - b"
// which LogsQL also reads as NOT).
func negates(rest string) bool {
	return !strings.HasPrefix(rest, "=") && !strings.HasPrefix(rest, "~")
}

// word classifies a term: the operators, case-insensitive as in LogsQL, or a filter.
func word(t string) token {
	switch strings.ToLower(t) {
	case "or":
		return token{or, t}
	case "and":
		return token{and, t}
	case "not":
		return token{not, t}
	}
	return token{term, t}
}

// termEnd returns the end of the term starting at s[i]: the first whitespace,
// `)` or `|` outside quotes and brackets. A quote opens a quoted string only where
// a word cannot continue (at the start, or after `:`, `=`, `(` ...), so the
// apostrophe of `don't` is text.
func termEnd(s string, i int) (int, error) {
	start, depth := i, 0
	prev := rune(-1)
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case depth == 0 && (unicode.IsSpace(r) || r == ')' || r == '|'):
			return i, nil
		case (r == '"' || r == '\'' || r == '`') && !isWordRune(prev):
			end, err := quoteEnd(s, i)
			if err != nil {
				return 0, err
			}
			i, prev = end, r
			continue
		case r == '(' || r == '[' || r == '{':
			depth++
		case (r == ')' || r == ']' || r == '}') && depth > 0:
			depth--
		}
		i += size
		prev = r
	}
	if depth > 0 {
		return 0, fmt.Errorf("a bracket is not closed in %q", clip(s[start:]))
	}
	return i, nil
}

// quoteEnd returns the index just past the quoted string that starts at s[i].
// Double and single quotes take backslash escapes; backquotes take none.
func quoteEnd(s string, i int) (int, error) {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`':
			j++
		case s[j] == q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("a quote is not closed: %s", clip(s[i:]))
}

// isWordRune reports whether r continues a word (LogsQL's token runes).
func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}
