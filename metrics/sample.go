package metrics

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Kind says how the values of a metric combine within an interval.
type Kind uint8

// The kinds of metric, after l2met's prefixes.
const (
	// Distribution is a measurement (`measure#`): count, sum, min, max and quantiles.
	Distribution Kind = iota + 1
	// Counter is a count (`count#`): only the sum of an interval matters.
	Counter
	// Gauge is a sample (`sample#`): the last value, and the spread of the others.
	Gauge
	// Unique counts distinct string values (`unique#`).
	Unique
)

var kindNames = [...]string{Distribution: "distribution", Counter: "counter", Gauge: "gauge", Unique: "unique"}

// String returns the kind's lower-case name.
func (k Kind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

func (k Kind) valid() bool { return k >= Distribution && k <= Unique }

// Sample is one value of one metric, read from one log line.
type Sample struct {
	// Name is the metric's name without its l2met prefix ("router.service", "memory_rss").
	Name string
	// Source is what the value describes: a dyno ("web.1"), an add-on ("DATABASE"),
	// or "" when nothing in particular (a request no dyno served).
	Source string
	// Unit is the letters that followed the number ("ms", "MB", "%"), or "".
	Unit string
	// Kind says how values combine.
	Kind Kind
	// Value is the number; for Unique it is 1.
	Value float64
	// Str is the value counted by a Unique metric.
	Str string
	// Time is the line's time, which decides the sample's interval.
	Time time.Time
}

// Errors a FieldError wraps.
var (
	// ErrNotNumber means a metric's value is not a decimal number with an optional unit.
	ErrNotNumber = errors.New("not a number")
	// ErrNoName means a metric key has a prefix and no name (`count#=1`).
	ErrNoName = errors.New("metric has no name")
	// ErrNoValue means a unique# field has nothing to count.
	ErrNoValue = errors.New("unique metric has no value")
)

// FieldError is a metric field on a line that could not be read. Extract reports it
// and goes on with the rest of the line.
type FieldError struct {
	Key, Value string
	Err        error
}

// Error names the field and why it was not used.
func (e *FieldError) Error() string {
	return fmt.Sprintf("metric field %s=%q: %v", e.Key, e.Value, e.Err)
}

// Unwrap returns the reason, such as ErrNotNumber.
func (e *FieldError) Unwrap() error { return e.Err }

// maxValue bounds what is accepted as a value, from a log line or an OpenTelemetry
// point (its value, sum, min, max and bucket bounds): CloudWatch refuses magnitudes
// beyond 2^360, and nothing a log reports comes near it. Bounded values keep an
// interval's sum finite (2^360 added 2^600 times stays below float64's limit) and
// the sketch able to index every value.
var maxValue = math.Ldexp(1, 360)

// inBounds reports whether v is a number within ±maxValue (NaN is not).
func inBounds(v float64) bool { return math.Abs(v) <= maxValue }

// parseValue reads "12ms", "-0.5", "139.79MB", "99%": a decimal number and the unit
// letters after it. Exponents, hex, "NaN" and "Inf" are refused so that free text
// that happens to parse in Go never becomes a value.
func parseValue(s string) (v float64, unit string, ok bool) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits, n, intOnly := 0, int64(0), true
scan:
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
			n = n*10 + int64(c-'0')
		case c == '.' && intOnly:
			intOnly = false
		default:
			break scan
		}
	}
	if digits == 0 || !isUnit(s[i:]) {
		return 0, "", false
	}
	if intOnly && digits <= 15 {
		v = float64(n)
		if s[0] == '-' {
			v = -v
		}
		return v, s[i:], true
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil || math.Abs(v) > maxValue {
		return 0, "", false
	}
	return v, s[i:], true
}

// isUnit reports whether s can be a unit: ASCII letters and '%'.
func isUnit(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '%') {
			return false
		}
	}
	return true
}
