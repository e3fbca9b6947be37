package logsql

import (
	"regexp"
	"strconv"
	"strings"
)

// keyValueRe matches a logfmt comparison as Heroku users type it: status=503,
// code!=H12, service>=1000, sample#memory_rss=12MB, measure#db.query<3ms.
var keyValueRe = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_.#-]*)(!=|>=|<=|=|>|<)(.+)$`)

// statusClassRe matches a class of HTTP statuses: 5xx.
var statusClassRe = regexp.MustCompile(`^[1-5][xX][xX]$`)

// keyValue translates key=value (and !=, >, >=, <, <=) into a filter on the
// logfmt field. An equality also matches the text as typed, so a key the archive
// did not store as a field (past the per-line cap, or a name taken by a line's own
// fields such as host) is still found in the message.
func keyValue(t string) (string, bool) {
	m := keyValueRe.FindStringSubmatch(t)
	if m == nil {
		return "", false
	}
	key, op, raw := m[1], m[2], m[3]
	if key == "_time" || strings.HasPrefix(key, "_stream") {
		return "", false // LogsQL's own filters, with their own syntax
	}
	v, quoted, ok := unquoteValue(raw)
	if !ok {
		return "", false
	}
	switch op {
	case "=":
		return equals(key, v, raw, quoted), true
	case "!=":
		return "NOT " + equals(key, v, raw, quoted), true
	default:
		return Field(key) + ":" + op + strconv.Quote(v), true
	}
}

// equals is the filter for key=value; raw is the value as typed.
func equals(key, v, raw string, quoted bool) string {
	text := key + "=" + raw
	switch {
	case !quoted && v == "*":
		return Field(key) + ":*"
	case !quoted && statusClassRe.MatchString(v):
		n := int(v[0]-'0') * 100
		return Field(key) + ":range[" + strconv.Itoa(n) + ", " + strconv.Itoa(n+100) + ")"
	case !quoted && len(v) > 1 && strings.HasSuffix(v, "*"):
		pre := strings.TrimSuffix(v, "*")
		return "(" + Field(key) + ":=" + strconv.Quote(pre) + "* OR " + strconv.Quote(strings.TrimSuffix(text, "*")) + "*)"
	}
	return "(" + Exact(key, v) + " OR " + strconv.Quote(text) + ")"
}

// unquoteValue reads the value of key=value: as typed, or the inside of a whole
// quoted string ("Request timeout", 'x', `x`). A value with a quote that does
// not close at its end is not a value (the term is searched as text).
func unquoteValue(raw string) (v string, quoted, ok bool) {
	switch raw[0] {
	case '"', '`':
		s, err := strconv.Unquote(raw)
		return s, true, err == nil
	case '\'':
		if len(raw) < 2 || raw[len(raw)-1] != '\'' || strings.ContainsAny(raw[1:len(raw)-1], `'\`) {
			return "", false, false
		}
		return raw[1 : len(raw)-1], true, true
	}
	return raw, false, true
}

// Exact is the LogsQL filter matching lines whose field equals value exactly.
func Exact(field, value string) string {
	return Field(field) + ":=" + strconv.Quote(value)
}

// Field is a field name as LogsQL reads it: bare when it is a plain identifier
// that is not one of LogsQL's words, quoted otherwise.
func Field(name string) string {
	if plainFieldRe.MatchString(name) && !keywords[strings.ToLower(name)] {
		return name
	}
	return strconv.Quote(name)
}

var plainFieldRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// keywords are the words LogsQL reads as operators or filter functions.
var keywords = map[string]bool{
	"or": true, "and": true, "not": true, "options": true,
	"contains_all": true, "contains_any": true, "json_array_contains_any": true,
	"contains_common_case": true, "equals_common_case": true, "eq_field": true,
	"le_field": true, "lt_field": true, "exact": true, "i": true, "in": true,
	"ipv4_range": true, "ipv6_range": true, "len_range": true, "pattern_match": true,
	"pattern_match_full": true, "pattern_match_prefix": true, "pattern_match_suffix": true,
	"range": true, "re": true, "seq": true, "string_range": true, "value_type": true,
}
