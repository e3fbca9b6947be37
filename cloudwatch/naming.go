package cloudwatch

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/drainpipe/drainpipe"
)

// maxNameBytes is CloudWatch's limit on group and stream names.
const maxNameBytes = 512

// placeholders are the names a template may use, each read from a record.
var placeholders = map[string]func(r *drainpipe.Record) string{
	"app":    func(r *drainpipe.Record) string { return r.App },
	"drain":  func(r *drainpipe.Record) string { return r.Drain },
	"source": func(r *drainpipe.Record) string { return r.Source },
	"dyno":   func(r *drainpipe.Record) string { return r.Dyno },
	"date":   func(r *drainpipe.Record) string { return eventTime(r).UTC().Format(time.DateOnly) },
}

// template is a parsed name template: literal text and placeholders, in order.
type template []templatePart

type templatePart struct {
	literal string
	name    string // the placeholder's, with value
	value   func(r *drainpipe.Record) string
}

// senderChosen are the placeholders whose values the sender of a line chooses (a
// drain decides {app} and {drain}), so a template holding one names as many groups
// as a sender likes.
var senderChosen = map[string]bool{"source": true, "dyno": true, "date": true}

// overflowValue stands for a sender-chosen value in a drain's overflow group.
const overflowValue = "_other"

// parseTemplate parses a name template such as "/heroku/{app}".
func parseTemplate(s string) (template, error) {
	var t template
	for s != "" {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			t = append(t, templatePart{literal: s})
			break
		}
		if i > 0 {
			t = append(t, templatePart{literal: s[:i]})
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("unclosed { in %q", s)
		}
		name := s[i+1 : i+j]
		f, ok := placeholders[name]
		if !ok {
			return nil, fmt.Errorf("unknown placeholder {%s}: want {app} {drain} {source} {dyno} or {date}", name)
		}
		t = append(t, templatePart{name: name, value: f})
		s = s[i+j+1:]
	}
	if len(t) == 0 {
		return nil, fmt.Errorf("empty template")
	}
	return t, nil
}

// parseTemplateLenient parses a drain's override, keeping what does not parse as
// literal text: a typo in one drain's setting must not stop its lines.
func parseTemplateLenient(s string) template {
	if t, err := parseTemplate(s); err == nil {
		return t
	}
	return template{{literal: s}}
}

// expand fills the template with the record's values.
func (t template) expand(r *drainpipe.Record) string {
	if len(t) == 1 && t[0].value == nil {
		return t[0].literal
	}
	var b strings.Builder
	for _, p := range t {
		if p.value != nil {
			b.WriteString(p.value(r))
		} else {
			b.WriteString(p.literal)
		}
	}
	return b.String()
}

// overflow is the group a line goes to when its drain may create no more groups
// now (see Config.NewGroupsPerMinute): the template with each sender-chosen
// placeholder as "_other" ("/prod/{app}/{dyno}" → "/prod/myapp/_other"). It is ""
// for a template without one, whose groups are as many as the drains.
func (t template) overflow(r *drainpipe.Record) string {
	if !slices.ContainsFunc(t, func(p templatePart) bool { return senderChosen[p.name] }) {
		return ""
	}
	var b strings.Builder
	for _, p := range t {
		switch {
		case senderChosen[p.name]:
			b.WriteString(overflowValue)
		case p.value != nil:
			b.WriteString(p.value(r))
		default:
			b.WriteString(p.literal)
		}
	}
	return GroupName(b.String())
}

// DrainGroup is the log group the lines of a drain of app go to under the group
// template tmpl; false when tmpl does not parse, or names its groups by what the
// sender chooses ({source}, {dyno}, {date}), so that the lines are in many.
func DrainGroup(tmpl, app, drainID string) (string, bool) {
	t, err := parseTemplate(tmpl)
	if err != nil || slices.ContainsFunc(t, func(p templatePart) bool { return senderChosen[p.name] }) {
		return "", false
	}
	return GroupName(t.expand(&drainpipe.Record{App: app, Drain: drainID})), true
}

// GroupName makes s a valid log group name: 1–512 characters of [.-_/#A-Za-z0-9],
// not starting with "aws/". Every other character becomes "_".
func GroupName(s string) string {
	b := make([]byte, 0, len(s)+1)
	for _, r := range s {
		if isGroupChar(r) {
			b = append(b, byte(r))
		} else {
			b = append(b, '_')
		}
	}
	if len(b) == 0 || strings.HasPrefix(string(b), "aws/") {
		b = append([]byte{'_'}, b...)
	}
	if len(b) > maxNameBytes {
		b = b[:maxNameBytes]
	}
	return string(b)
}

func isGroupChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '.' || r == '-' || r == '_' || r == '/' || r == '#'
}

// StreamName makes s a valid log stream name: 1–512 bytes of valid UTF-8 with no
// ":" or "*" (each becomes "_").
func StreamName(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r == ':' || r == '*' {
			return '_'
		}
		return r
	}, s)
	if s == "" {
		return "_"
	}
	return truncateUTF8(s, maxNameBytes)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
