package alert

import (
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// LineError is a mistake in the rules file, at a line.
type LineError struct {
	File string
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// fileKeys are the keys a rule of the rules file may have.
var fileKeys = []string{"name", "app", "kind", "query", "preset", "metric", "agg", "window", "threshold", "below",
	"for", "recover", "group_by", "renotify", "mute", "notify"}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// ParseFile reads a rules file:
//
//	rules:
//	  - name: h12
//	    app: myapp
//	    query: code=H12
//	    threshold: 10
//	    notify: ["slack+https://hooks.slack.com/services/${SLACK_HOOK}"]
//
// Every rule is normalized and checked; the error lists every mistake found, each
// as a *LineError with its line. ${VAR} in notify URLs is replaced by the
// environment variable VAR (looked up with lookupEnv), so secrets need not be in the
// file.
func ParseFile(name string, data []byte, lookupEnv func(string) (string, bool)) ([]Rule, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) == 0 {
		return nil, &LineError{File: name, Line: 1, Msg: "empty: want a `rules:` list"}
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, &LineError{File: name, Line: top.Line, Msg: "want a mapping with a `rules:` list"}
	}
	p := &fileParser{file: name, env: lookupEnv}
	var list *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if k.Value != "rules" {
			p.errorf(k.Line, "unknown key %q: the file holds `rules:`", k.Value)
			continue
		}
		list = v
	}
	if list == nil || list.Kind != yaml.SequenceNode {
		line := top.Line
		if list != nil {
			line = list.Line
		}
		p.errorf(line, "want `rules:` followed by a list of rules")
		return nil, errors.Join(p.errs...)
	}
	var rules []Rule
	seen := map[string]int{}
	for _, item := range list.Content {
		r, ok := p.rule(item)
		if !ok {
			continue
		}
		if first, dup := seen[r.Name]; dup {
			p.errorf(item.Line, "rule %q: already defined at line %d", r.Name, first)
			continue
		}
		seen[r.Name] = item.Line
		rules = append(rules, r)
	}
	return rules, errors.Join(p.errs...)
}

// ReadFile reads and parses a rules file with the process's environment.
func ReadFile(path string) ([]Rule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("alerts file: %w", err)
	}
	return ParseFile(path, data, os.LookupEnv)
}

type fileParser struct {
	file string
	env  func(string) (string, bool)
	errs []error
}

func (p *fileParser) errorf(line int, format string, a ...any) {
	p.errs = append(p.errs, &LineError{File: p.file, Line: line, Msg: fmt.Sprintf(format, a...)})
}

// rule reads one rule; it reports false after recording its errors.
func (p *fileParser) rule(n *yaml.Node) (Rule, bool) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "a rule is a mapping of keys (name, app, query, ...)")
		return Rule{}, false
	}
	r := Rule{Source: FromFile, Line: n.Line}
	lines := map[string]int{}
	before := len(p.errs)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(fileKeys, k.Value) {
			p.errorf(k.Line, "unknown key %q: a rule has %s", k.Value, strings.Join(fileKeys, ", "))
			continue
		}
		if _, dup := lines[k.Value]; dup {
			p.errorf(k.Line, "%s given twice", k.Value)
			continue
		}
		lines[k.Value] = v.Line
		if err := p.field(&r, k.Value, v); err != nil {
			p.errorf(v.Line, "%s: %v", k.Value, err)
		}
	}
	if len(p.errs) > before {
		return Rule{}, false
	}
	if _, ok := lines["app"]; !ok {
		p.errorf(n.Line, "rule %q: app: give the app, or \"*\" for every app", r.Name)
		return Rule{}, false
	}
	if err := r.Normalize(); err != nil {
		line := n.Line
		msg := strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
		for key, l := range lines {
			if strings.HasPrefix(msg, key+" ") || strings.HasPrefix(msg, key+":") {
				line = l
			}
		}
		p.errorf(line, "rule %q: %s", r.Name, msg)
		return Rule{}, false
	}
	return r, true
}

// field decodes one key of a rule.
func (p *fileParser) field(r *Rule, key string, v *yaml.Node) error {
	switch key {
	case "name", "app", "query", "preset", "metric", "agg":
		dst := map[string]*string{"name": &r.Name, "app": &r.App, "query": &r.Query, "preset": &r.Preset, "metric": &r.Metric, "agg": &r.Agg}[key]
		return scalar(v, dst)
	case "kind":
		var s string
		err := scalar(v, &s)
		r.Kind = Kind(s)
		return err
	case "window", "renotify":
		dst := map[string]*time.Duration{"window": &r.Window, "renotify": &r.Renotify}[key]
		return duration(v, dst)
	case "threshold":
		return number(v, &r.Threshold)
	case "recover":
		r.Recover = new(float64)
		return number(v, r.Recover)
	case "below":
		if err := v.Decode(&r.Below); err != nil {
			return errors.New("want true or false")
		}
	case "for":
		if err := v.Decode(&r.For); err != nil {
			return errors.New("want a whole number of windows")
		}
	case "group_by":
		return stringList(v, &r.GroupBy)
	case "mute":
		return p.mute(v, &r.Mute)
	case "notify":
		return p.notify(v, &r.Notify)
	}
	return nil
}

func scalar(v *yaml.Node, dst *string) error {
	if v.Kind != yaml.ScalarNode {
		return errors.New("want a single value")
	}
	*dst = v.Value
	return nil
}

func duration(v *yaml.Node, dst *time.Duration) error {
	var s string
	if err := scalar(v, &s); err != nil {
		return err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as 1m, 30s or 1h, not %q", s)
	}
	*dst = d
	return nil
}

func number(v *yaml.Node, dst *float64) error {
	if v.Kind != yaml.ScalarNode || v.Decode(dst) != nil || math.IsNaN(*dst) || math.IsInf(*dst, 0) {
		return fmt.Errorf("want a number, not %q", v.Value)
	}
	return nil
}

func stringList(v *yaml.Node, dst *[]string) error {
	if v.Kind == yaml.ScalarNode { // group_by: dyno,code
		*dst = strings.Split(v.Value, ",")
		for i := range *dst {
			(*dst)[i] = strings.TrimSpace((*dst)[i])
		}
		return nil
	}
	if v.Kind != yaml.SequenceNode || v.Decode(dst) != nil {
		return errors.New("want a list of field names, e.g. [dyno, code]")
	}
	return nil
}

func (p *fileParser) mute(v *yaml.Node, m *Mute) error {
	var raw struct {
		Until    string   `yaml:"until"`
		Daily    []string `yaml:"daily"`
		Timezone string   `yaml:"timezone"`
	}
	if v.Kind != yaml.MappingNode {
		return errors.New("want until, daily and/or timezone")
	}
	for i := 0; i < len(v.Content); i += 2 {
		if k := v.Content[i].Value; k != "until" && k != "daily" && k != "timezone" {
			return fmt.Errorf("unknown key %q: want until, daily, timezone", k)
		}
	}
	if err := v.Decode(&raw); err != nil {
		return errors.New("want until: RFC 3339 time, daily: [\"22:00-06:00\"], timezone: Europe/Paris")
	}
	if raw.Until != "" {
		t, err := time.Parse(time.RFC3339, raw.Until)
		if err != nil {
			return fmt.Errorf("until %q: want an RFC 3339 time such as 2026-12-01T09:00:00Z", raw.Until)
		}
		m.Until = t
	}
	for _, d := range raw.Daily {
		dr, err := ParseDailyRange(d)
		if err != nil {
			return err
		}
		m.Daily = append(m.Daily, dr)
	}
	m.Location = raw.Timezone
	return nil
}

func (p *fileParser) notify(v *yaml.Node, dst *[]string) error {
	var urls []string
	if err := stringList(v, &urls); err != nil {
		return errors.New("want a list of destination URLs")
	}
	for i, u := range urls {
		var missing, empty []string
		urls[i] = envRef.ReplaceAllStringFunc(u, func(ref string) string {
			name := envRef.FindStringSubmatch(ref)[1]
			val, ok := p.env(name)
			switch {
			case !ok:
				missing = append(missing, name)
			case val == "":
				// A secret exported empty (a deploy that lost it) would make
				// a destination that fails at the first alert, not at start.
				empty = append(empty, name)
			}
			return val
		})
		if len(missing) > 0 {
			return fmt.Errorf("destination #%d uses ${%s}, which is not set in the environment", i+1, strings.Join(missing, "}, ${"))
		}
		if len(empty) > 0 {
			return fmt.Errorf("destination #%d uses ${%s}, which is empty in the environment", i+1, strings.Join(empty, "}, ${"))
		}
	}
	*dst = urls
	return nil
}
