package ui

import (
	"strings"

	"github.com/drainpipe/drainpipe/api"
)

// lineFilter keeps the live tail's lines: by source, dyno and words. It is a
// filter on lines as they pass, not the archive's query language, and says so in
// the page: every word must appear in the message (case-insensitively), a word
// written -word must not, and "a phrase" in quotes is one word.
type lineFilter struct {
	source, dyno string
	// dynoPrefix is set when dyno names a process type ("web"): like `heroku logs
	// --dyno web`, it keeps web.1, web.2 ...
	dynoPrefix   bool
	want, reject []string
}

func newLineFilter(source, dyno, query string) lineFilter {
	f := lineFilter{source: source, dyno: dyno, dynoPrefix: dyno != "" && !strings.Contains(dyno, ".")}
	for _, w := range splitWords(query) {
		if neg, ok := strings.CutPrefix(w, "-"); ok && neg != "" {
			f.reject = append(f.reject, strings.ToLower(neg))
		} else {
			f.want = append(f.want, strings.ToLower(w))
		}
	}
	return f
}

// splitWords splits a query at spaces, keeping "quoted phrases" (quotes removed)
// as one word; -"a phrase" is a negated phrase.
func splitWords(q string) []string {
	var out []string
	for q = strings.TrimSpace(q); q != ""; q = strings.TrimSpace(q) {
		neg := ""
		if strings.HasPrefix(q, `-"`) {
			neg, q = "-", q[1:]
		}
		if rest, ok := strings.CutPrefix(q, `"`); ok {
			phrase, after, _ := strings.Cut(rest, `"`)
			if phrase != "" {
				out = append(out, neg+phrase)
			}
			q = after
			continue
		}
		w, after, _ := strings.Cut(q, " ")
		out = append(out, w)
		q = after
	}
	return out
}

func (f lineFilter) empty() bool {
	return f.source == "" && f.dyno == "" && len(f.want) == 0 && len(f.reject) == 0
}

func (f lineFilter) match(l *api.Line) bool {
	if f.source != "" && l.Source != f.source {
		return false
	}
	if f.dyno != "" && l.Dyno != f.dyno && !(f.dynoPrefix && strings.HasPrefix(l.Dyno, f.dyno+".")) {
		return false
	}
	if len(f.want) == 0 && len(f.reject) == 0 {
		return true
	}
	msg := strings.ToLower(l.Message)
	for _, w := range f.want {
		if !strings.Contains(msg, w) {
			return false
		}
	}
	for _, w := range f.reject {
		if strings.Contains(msg, w) {
			return false
		}
	}
	return true
}
