package logsql

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/logsql/lex"
)

// ErrBadQuery means a query cannot be read. The error wrapping it says why, in a
// sentence fit for the user.
var ErrBadQuery = errors.New("bad search query")

// Field names of the archive that the Heroku words map to.
const (
	FieldSource = archive.FieldSource // syslog APP-NAME: app, heroku
	FieldDyno   = archive.FieldDyno   // syslog PROCID: web.1, router
	FieldApp    = archive.FieldApp    // the Heroku app
)

// Translate returns the LogsQL query for what the user typed (see the package
// doc). An empty query is `*`, every line. The result always parses with
// logstorage.ParseQuery; when it cannot, the error wraps ErrBadQuery.
func Translate(typed string) (string, error) {
	opts, rest, err := splitOptions(strings.TrimSpace(typed))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	toks, pipes, err := lex.Scan(rest)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	var b strings.Builder
	b.WriteString(opts)
	if len(toks) == 0 {
		b.WriteString("*")
	}
	for i, t := range toks {
		if i > 0 && t.Kind != lex.Close && toks[i-1].Kind != lex.Open {
			b.WriteByte(' ')
		}
		switch t.Kind {
		case lex.Term:
			b.WriteString(translateTerm(t.Text))
		case lex.Open, lex.Close:
			b.WriteString(t.Text)
		case lex.Or:
			b.WriteString("OR")
		case lex.And:
			b.WriteString("AND")
		case lex.Not:
			b.WriteString("NOT")
		}
	}
	if pipes != "" {
		b.WriteByte(' ')
		b.WriteString(pipes)
	}
	out := b.String()
	if _, err := logstorage.ParseQuery(out); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	return out, nil
}

// splitOptions returns LogsQL's leading query options, `options(...)`, apart from
// the rest of the query: they are valid only there.
func splitOptions(s string) (opts, rest string, err error) {
	if !strings.HasPrefix(strings.ToLower(s), "options(") {
		return "", s, nil
	}
	end, err := lex.TermEnd(s, 0)
	if err != nil {
		return "", "", err
	}
	return s[:end] + " ", s[end:], nil
}

// translateTerm returns the LogsQL filter for one term. A filter made of several
// parts comes in parentheses, so that it stays one operand of AND, OR and NOT.
func translateTerm(t string) string {
	if t == "*" {
		return t
	}
	if f, ok := keyValue(t); ok {
		return f
	}
	if f, ok := herokuSource(t); ok {
		return f
	}
	if dynoShaped.MatchString(t) || t == "router" {
		return "(" + Exact(FieldDyno, t) + " OR " + strconv.Quote(t) + ")"
	}
	if isLogsQL(t) {
		return t
	}
	return strconv.Quote(t)
}

// dynoShaped matches the names of dynos: a process type, a dot and a number
// (web.1, worker.12, run.1234, release.3).
var dynoShaped = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*\.[0-9]+$`)

// herokuSourceRe matches a line's origin as `heroku logs` prints it: app[web.1],
// heroku[router], with the colon that follows it when copied from a line.
var herokuSourceRe = regexp.MustCompile(`^([A-Za-z0-9_-]+)\[([A-Za-z0-9_.-]+)\]:?$`)

func herokuSource(t string) (string, bool) {
	m := herokuSourceRe.FindStringSubmatch(t)
	if m == nil {
		return "", false
	}
	return "(" + Exact(FieldSource, m[1]) + " " + Exact(FieldDyno, m[2]) + ")", true
}

// isLogsQL reports whether t, on its own, is a LogsQL filter that means to a
// Heroku user what it means to LogsQL. Text with an unquoted # (a LogsQL comment,
// an l2met key to a Heroku user), URLs, times and host:port addresses parse as
// LogsQL field filters but are text.
func isLogsQL(t string) bool {
	if unquotedIndex(t, '#') >= 0 {
		return false
	}
	if i := unquotedIndex(t, ':'); i >= 0 && (!isFieldName(t[:i]) || strings.HasPrefix(t[i:], "://")) {
		return false
	}
	_, err := logstorage.ParseQuery(t)
	return err == nil
}

// isFieldName reports whether s, the text before a colon, names a field: an
// identifier (dots and dashes allowed, not first), a quoted name, or a prefix of
// names (foo*).
func isFieldName(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '"' || s[0] == '`' || s[0] == '\'' {
		return true
	}
	return fieldNameRe.MatchString(s)
}

var fieldNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*\*?$`)

// unquotedIndex returns the index of the first c in t outside quoted strings, or -1.
func unquotedIndex(t string, c byte) int {
	prev := rune(-1)
	for i := 0; i < len(t); {
		r, size := utf8.DecodeRuneInString(t[i:])
		if (r == '"' || r == '\'' || r == '`') && !lex.IsWordRune(prev) {
			end, err := lex.QuoteEnd(t, i)
			if err != nil {
				return -1
			}
			i, prev = end, r
			continue
		}
		if r == rune(c) {
			return i
		}
		i += size
		prev = r
	}
	return -1
}
