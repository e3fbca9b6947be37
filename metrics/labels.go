package metrics

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/drainpipe/drainpipe"
)

// FormatLabels renders a data point's attributes as the labels part of its series
// name: `{k="v",k2="v2"}`, keys sorted and unique (the first of repeated keys
// wins), values quoted as Go strings, and in keys every '=', ',', '{', '}', '"',
// '\\', space and control character replaced by '_'. No attributes give "".
func FormatLabels(attrs []drainpipe.Attr) string {
	if len(attrs) == 0 {
		return ""
	}
	sorted := slices.Clone(attrs)
	for i := range sorted {
		sorted[i].Key = CleanName(sorted[i].Key)
	}
	slices.SortStableFunc(sorted, func(x, y drainpipe.Attr) int { return cmp.Compare(x.Key, y.Key) })
	var b strings.Builder
	b.WriteByte('{')
	for i, a := range sorted {
		if i > 0 && a.Key == sorted[i-1].Key {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.WriteString(a.Key)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(a.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// CleanName is k with every character that would make a series name read
// otherwise ('=', ',', '{', '}', '"', '\\', space and control characters) replaced
// by '_': for label keys, and for the names of metrics a sender chose (OTLP), so
// that a name such as `spoof{app="victim"}` cannot pass for labels.
func CleanName(k string) string {
	if k == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '=' || r == ',' || r == '{' || r == '}' || r == '"' || r == '\\' || r <= ' ' || r == 0x7f:
			return '_'
		}
		return r
	}, k)
}

// SplitSeriesName splits a series name into the metric's name and its labels, as
// FormatLabels wrote them. A name without labels, or whose labels do not parse (a
// log metric whose name happens to hold a '{'), is all name.
func SplitSeriesName(s string) (name string, labels [][2]string) {
	i := strings.IndexByte(s, '{')
	if i <= 0 || !strings.HasSuffix(s, "}") {
		return s, nil
	}
	rest := s[i+1 : len(s)-1]
	if rest == "" {
		return s, nil // FormatLabels writes no "{}"
	}
	for rest != "" {
		k, v, ok := strings.Cut(rest, "=")
		if !ok || k == "" {
			return s, nil
		}
		q, err := strconv.QuotedPrefix(v)
		if err != nil {
			return s, nil
		}
		val, _ := strconv.Unquote(q)
		labels = append(labels, [2]string{k, val})
		rest = v[len(q):]
		if rest != "" {
			if rest[0] != ',' || len(rest) == 1 {
				return s, nil
			}
			rest = rest[1:]
		}
	}
	return s[:i], labels
}
