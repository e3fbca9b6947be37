// Package lex splits what a user types as a search into its parts, as the
// search reads it: terms (quotes and brackets kept whole), parentheses, the
// operators, and the pipes after the first top-level |. It depends on nothing,
// so that packages that must not pull the archive in (alert) read a query as
// logsql does.
package lex

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is what a token of the filter part is.
type Kind int

const (
	Term  Kind = iota // a filter: a word, a phrase, field:value, key=value ...
	Open              // (
	Close             // )
	Or                // OR, or
	And               // AND, and
	Not               // NOT, not, a leading - or !
)

// Token is one unit of the filter part, with its text as typed.
type Token struct {
	Kind Kind
	Text string
}

// Scan splits the filter part of a query into tokens and returns the rest of the
// query from its first top-level `|` (the pipes), or "" when there is none.
// Quotes and brackets are kept whole inside a term, so `desc="Request timeout"`
// and `status:range[500, 600)` are one term each.
func Scan(s string) (toks []Token, pipes string, err error) {
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
			toks = append(toks, Token{Open, "("})
			depth++
			i++
		case r == ')':
			if depth == 0 {
				return nil, "", fmt.Errorf("a ) closes nothing: %q", Clip(s[i:]))
			}
			if toks[len(toks)-1].Kind == Open {
				return nil, "", fmt.Errorf("nothing between ( and )")
			}
			toks = append(toks, Token{Close, ")"})
			depth--
			i++
		case (r == '-' || r == '!') && negates(s[i+1:]):
			toks = append(toks, Token{Not, s[i : i+1]})
			i++
		default:
			end, err := TermEnd(s, i)
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
func word(t string) Token {
	switch strings.ToLower(t) {
	case "or":
		return Token{Or, t}
	case "and":
		return Token{And, t}
	case "not":
		return Token{Not, t}
	}
	return Token{Term, t}
}

// TermEnd returns the end of the term starting at s[i]: the first whitespace,
// `)` or `|` outside quotes and brackets. A quote opens a quoted string only where
// a word cannot continue (at the start, or after `:`, `=`, `(` ...), so the
// apostrophe of `don't` is text.
func TermEnd(s string, i int) (int, error) {
	start, depth := i, 0
	prev := rune(-1)
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case depth == 0 && (unicode.IsSpace(r) || r == ')' || r == '|'):
			return i, nil
		case (r == '"' || r == '\'' || r == '`') && !IsWordRune(prev):
			end, err := QuoteEnd(s, i)
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
		return 0, fmt.Errorf("a bracket is not closed in %q", Clip(s[start:]))
	}
	return i, nil
}

// QuoteEnd returns the index just past the quoted string that starts at s[i].
// Double and single quotes take backslash escapes; backquotes take none.
func QuoteEnd(s string, i int) (int, error) {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`':
			j++
		case s[j] == q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("a quote is not closed: %s", Clip(s[i:]))
}

// IsWordRune reports whether r continues a word (LogsQL's token runes).
func IsWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// Clip shortens s for an error message.
func Clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

// OrOutside reports whether the filter part of s has an OR outside
// parentheses: only then does a filter ANDed to s need s in parentheses (AND
// binds tighter than OR), which plain queries are spared. A query that does
// not scan reports true: parentheses cannot make it worse.
func OrOutside(s string) bool {
	toks, _, err := Scan(s)
	if err != nil {
		return true
	}
	depth := 0
	for _, t := range toks {
		switch t.Kind {
		case Open:
			depth++
		case Close:
			depth--
		case Or:
			if depth == 0 {
				return true
			}
		}
	}
	return false
}
