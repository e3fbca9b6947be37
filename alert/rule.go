package alert

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Kind is what a rule watches.
type Kind string

// The kinds of rule.
const (
	// Match counts the lines matching a query in each window: it fires when the count
	// is at least the threshold (at most, with Below).
	Match Kind = "match"
	// Absence fires when no line matches the query in a window: the cron job that did
	// not run, the heartbeat that stopped.
	Absence Kind = "absence"
	// Metric reads a series of the metrics pipeline (router.service p95, memory_rss):
	// it fires when the window's value is above the threshold (below, with Below).
	Metric Kind = "metric"
)

// Where a rule was defined.
const (
	// FromAPI marks a rule added through the admin API (`drainpipe alerts add`).
	FromAPI = "api"
	// FromFile marks a rule read from the --alerts-file; it cannot be changed through
	// the API.
	FromFile = "file"
)

// Limits on a rule.
const (
	// MaxGroups caps the groups a rule tracks; groups beyond it are counted, not kept.
	MaxGroups = 100
	// MaxGroupBy caps the fields of group_by.
	MaxGroupBy = 5
	// MaxDestinations caps the destinations of one rule.
	MaxDestinations = 10
	// MinWindow and MaxWindow bound a rule's window.
	MinWindow, MaxWindow = time.Second, 24 * time.Hour
	// DefaultWindow is a rule's window when none is given.
	DefaultWindow = time.Minute
	// MaxFor caps `for`, in windows.
	MaxFor = 1000
)

// Rule is one alert rule. Durations are whole; zero values take the defaults that
// Normalize fills in.
type Rule struct {
	// Name identifies the rule: letters, digits, '-' and '_', at most 64.
	Name string `json:"name"`
	// App is the app whose lines or metrics are watched; "" watches every app.
	App string `json:"app,omitempty"`
	// Kind is match, absence or metric.
	Kind Kind `json:"kind"`
	// Query selects lines, in the archive's query language: the same words as
	// `drainpipe search` (match and absence rules).
	Query string `json:"query,omitempty"`
	// Preset names the Heroku preset the rule was made from, if any.
	Preset string `json:"preset,omitempty"`
	// Metric is the series a metric rule reads (router.service), or a ratio of two
	// series of the same source (memory_rss/memory_quota).
	Metric string `json:"metric,omitempty"`
	// Agg is the statistic of the series over the window: count, sum, min, max,
	// mean, last, p50, p95 or p99.
	Agg string `json:"agg,omitempty"`
	// Window is the length of the windows the rule is evaluated over, aligned on
	// multiples of it since the zero time (a 1m window starts on the minute).
	Window time.Duration `json:"window"`
	// Threshold is the count or value that fires the rule.
	Threshold float64 `json:"threshold"`
	// Below fires when the count is at most the threshold (match), or the value is
	// under it (metric), instead of at least / over.
	Below bool `json:"below,omitempty"`
	// For is how many consecutive windows must breach before the rule fires.
	For int `json:"for"`
	// Recover is the recovery threshold (hysteresis): a firing group resolves only
	// once its condition, with Recover in place of Threshold, is false. Nil is
	// Threshold.
	Recover *float64 `json:"recover,omitempty"`
	// GroupBy splits the count by fields (dyno, code, source, app): each group fires
	// and resolves on its own. At most MaxGroups groups are tracked.
	GroupBy []string `json:"group_by,omitempty"`
	// Renotify repeats the firing notification this often while a group fires; 0 never.
	Renotify time.Duration `json:"renotify,omitempty"`
	// Mute holds the rule's configured quiet times.
	Mute Mute `json:"mute,omitzero"`
	// Notify are the destination URLs (slack+https://, pagerduty://, webhook+https://,
	// smtp://). They hold secrets: they are stored sealed, and shown redacted.
	Notify []string `json:"notify"`
	// Source says where the rule was defined: FromAPI or FromFile.
	Source string `json:"source,omitempty"`
	// Line is the rule's line in the rules file, for FromFile rules.
	Line int `json:"line,omitempty"`
}

// ErrInvalid marks a rule that cannot be used; the error wrapping it says why.
var ErrInvalid = errors.New("invalid rule")

var (
	nameRe  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	fieldRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`)
)

// aggs are the statistics a metric rule can read.
var aggs = []string{"count", "sum", "min", "max", "mean", "last", "p50", "p95", "p99"}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Normalize applies the defaults (a preset's query, window 1m, for 1, the kind
// implied by the fields given) and checks the rule. Errors wrap ErrInvalid and name
// the field at fault.
func (r *Rule) Normalize() error {
	if !nameRe.MatchString(r.Name) {
		return invalid("name %q: use 1 to 64 letters, digits, '-' or '_', starting with a letter or digit", r.Name)
	}
	if r.App == "*" {
		r.App = ""
	}
	if strings.ContainsAny(r.App, " \t\n/") {
		return invalid("app %q: not an app name", r.App)
	}
	if err := r.applyPreset(); err != nil {
		return err
	}
	if r.Kind == "" {
		r.Kind = Match
		if r.Metric != "" {
			r.Kind = Metric
		}
	}
	if r.Window == 0 {
		r.Window = DefaultWindow
	}
	if r.For == 0 {
		r.For = 1
	}
	for _, check := range []func() error{r.checkKind, r.checkWindow, r.checkThresholds, r.checkGroupBy, r.checkNotify, r.Mute.check} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (r *Rule) checkKind() error {
	switch r.Kind {
	case Match, Absence:
		if strings.TrimSpace(r.Query) == "" {
			return invalid("query: a %s rule needs a query (or a preset)", r.Kind)
		}
		if r.Metric != "" || r.Agg != "" {
			return invalid("metric: only a metric rule reads a metric")
		}
	case Metric:
		if r.Query != "" {
			return invalid("query: a metric rule reads a series, not lines (give metric and agg)")
		}
		names := strings.Split(r.Metric, "/")
		if r.Metric == "" || len(names) > 2 || slices.Contains(names, "") {
			return invalid("metric %q: want a series name (router.service) or a ratio of two (memory_rss/memory_quota)", r.Metric)
		}
		if r.Agg == "" {
			return invalid("agg: a metric rule needs one of %s", strings.Join(aggs, ", "))
		}
		if !slices.Contains(aggs, r.Agg) {
			return invalid("agg %q: want one of %s", r.Agg, strings.Join(aggs, ", "))
		}
	default:
		return invalid("kind %q: want match, absence or metric", r.Kind)
	}
	return nil
}

func (r *Rule) checkWindow() error {
	if r.Window < MinWindow || r.Window > MaxWindow || r.Window%time.Second != 0 {
		return invalid("window %s: want whole seconds from %s to %s", r.Window, MinWindow, MaxWindow)
	}
	if r.For < 1 || r.For > MaxFor {
		return invalid("for %d: want 1 to %d windows", r.For, MaxFor)
	}
	if r.Renotify < 0 || (r.Renotify > 0 && r.Renotify < r.Window) {
		return invalid("renotify %s: want 0 (never) or at least the window (%s)", r.Renotify, r.Window)
	}
	return nil
}

func (r *Rule) checkThresholds() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if !finite(r.Threshold) || (r.Recover != nil && !finite(*r.Recover)) {
		return invalid("threshold and recover must be numbers")
	}
	switch r.Kind {
	case Absence:
		if r.Threshold != 0 {
			return invalid("threshold: an absence rule fires on no matching line; for fewer than N lines use kind match with below and threshold N")
		}
		r.Below = true
	case Match:
		if r.Threshold < 0 || r.Threshold != math.Trunc(r.Threshold) {
			return invalid("threshold %v: a match rule counts lines: want a whole number", r.Threshold)
		}
		if r.Threshold == 0 && !r.Below {
			r.Threshold = 1 // "at least 0 lines" is always true: the default is "any line"
		}
	}
	if r.Recover == nil {
		return nil
	}
	rec := *r.Recover
	if r.Below && rec < r.Threshold {
		return invalid("recover %v: a below rule recovers above its threshold: want recover ≥ %v", rec, r.Threshold)
	}
	if !r.Below && rec > r.Threshold {
		return invalid("recover %v: a rule recovers below its threshold: want recover ≤ %v", rec, r.Threshold)
	}
	return nil
}

func (r *Rule) checkGroupBy() error {
	if len(r.GroupBy) > MaxGroupBy {
		return invalid("group_by: at most %d fields", MaxGroupBy)
	}
	seen := map[string]bool{}
	for i, f := range r.GroupBy {
		if !fieldRe.MatchString(f) {
			return invalid("group_by %q: not a field name", f)
		}
		if r.Kind == Metric {
			switch f {
			case "dyno":
				r.GroupBy[i] = "source" // a series' source is its dyno
			case "source", "app":
			default:
				return invalid("group_by %q: a metric rule groups by source (dyno) or app", f)
			}
		}
		if seen[r.GroupBy[i]] {
			return invalid("group_by: %q twice", f)
		}
		seen[r.GroupBy[i]] = true
	}
	return nil
}

func (r *Rule) checkNotify() error {
	if len(r.Notify) == 0 {
		return invalid("notify: give at least one destination URL")
	}
	if len(r.Notify) > MaxDestinations {
		return invalid("notify: at most %d destinations", MaxDestinations)
	}
	return nil
}

// recoverAt is the recovery threshold.
func (r *Rule) recoverAt() float64 {
	if r.Recover != nil {
		return *r.Recover
	}
	return r.Threshold
}

// breaches reports whether value v meets the rule's condition with threshold t:
// count ≥ t (≤ t below) for lines, value > t (< t below) for a metric.
func (r *Rule) breaches(v, t float64) bool {
	switch {
	case r.Kind == Metric && r.Below:
		return v < t
	case r.Kind == Metric:
		return v > t
	case r.Below:
		return v <= t
	default:
		return v >= t
	}
}

// Condition describes the rule's condition in words, for notifications and lists:
// "≥ 10 lines", "no line", "p95 > 2000".
func (r *Rule) Condition() string {
	switch r.Kind {
	case Absence:
		return "no line"
	case Metric:
		op := ">"
		if r.Below {
			op = "<"
		}
		return fmt.Sprintf("%s of %s %s %v", r.Agg, r.Metric, op, r.Threshold)
	}
	op := "≥"
	if r.Below {
		op = "≤"
	}
	return fmt.Sprintf("%s %v lines", op, r.Threshold)
}

// identity is what makes two versions of a rule the same rule: when it changes
// (another query, app, window or grouping), the old rule's groups are resolved and
// forgotten. Thresholds, destinations, renotify and mutes can change in place.
func (r *Rule) identity() string {
	return strings.Join([]string{string(r.Kind), r.App, r.Query, r.Metric, r.Agg, r.Window.String(),
		strings.Join(r.GroupBy, ",")}, "\x00")
}
