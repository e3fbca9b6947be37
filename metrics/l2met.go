package metrics

import (
	"errors"
	"strings"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/logfmt"
)

// lineFacts is what a first pass over a line finds: who the line's metrics are about,
// and whether there are any.
type lineFacts struct {
	source, addon       string
	measure, val, units string
	hasVal, prefixed    bool
}

// extractL2met reads l2met fields (measure#, count#, sample#, unique#, measure.) and
// the legacy `measure=name val=v units=u` form from any line. Heroku's runtime metrics
// and add-on metrics are sample# fields, so they are read here too.
func extractL2met(r drainpipe.Record, fn func(Sample)) error {
	msg := r.Message
	if !strings.Contains(msg, "#") && !strings.Contains(msg, "measure") {
		return nil
	}
	var f lineFacts
	logfmt.Scan(msg, func(k, v string) bool {
		switch k {
		case "source":
			f.source = v
		case "addon":
			f.addon = v
		case "measure":
			f.measure = v
		case "val":
			f.val, f.hasVal = v, true
		case "units":
			f.units = v
		default:
			if _, _, ok := splitKey(k); ok {
				f.prefixed = true
			}
		}
		return true
	})
	base := Sample{Source: f.sourceOr(r.Dyno), Time: r.Time}
	var errs []error
	if f.prefixed {
		logfmt.Scan(msg, func(k, v string) bool {
			kind, name, ok := splitKey(k)
			if !ok {
				return true
			}
			if err := l2metSample(fn, base, kind, name, v); err != nil {
				errs = append(errs, &FieldError{Key: k, Value: v, Err: err})
			}
			return true
		})
	}
	if f.measure != "" && f.hasVal {
		kind := Distribution
		if isRuntimeMetric(f.measure) {
			// log-runtime-metrics' old form: the same gauges as today's sample# fields.
			kind = Gauge
		}
		val, unit, ok := parseValue(f.val)
		switch {
		case !ok:
			errs = append(errs, &FieldError{Key: "val", Value: f.val, Err: ErrNotNumber})
		default:
			if unit == "" {
				unit = f.units
			}
			base.Name, base.Kind, base.Value, base.Unit = f.measure, kind, val, unit
			fn(base)
		}
	}
	return errors.Join(errs...)
}

// sourceOr returns whom the line's metrics describe: its source= (the dyno name out of
// the legacy "heroku.<app id>.<type>.<n>.<uuid>" form), else the add-on, else dyno.
func (f *lineFacts) sourceOr(dyno string) string {
	switch {
	case f.source != "":
		return legacySource(f.source)
	case f.addon != "":
		return f.addon
	}
	return dyno
}

// legacySource turns "heroku.2808254.web.1.d97d0ea7-..." into "web.1"; anything
// else is returned as is.
func legacySource(s string) string {
	rest, ok := strings.CutPrefix(s, "heroku.")
	if !ok {
		return s
	}
	appID, rest, ok := strings.Cut(rest, ".")
	if !ok || appID == "" || strings.Trim(appID, "0123456789") != "" {
		return s
	}
	typ, rest, ok := strings.Cut(rest, ".")
	if !ok || typ == "" {
		return s
	}
	num, _, _ := strings.Cut(rest, ".")
	if num == "" || strings.Trim(num, "0123456789") != "" {
		return s
	}
	start := len(s) - len(rest) - len(typ) - 1
	return s[start : start+len(typ)+1+len(num)]
}

// splitKey reads an l2met key: "measure#db.query" is a Distribution named "db.query".
func splitKey(k string) (Kind, string, bool) {
	if i := strings.IndexByte(k, '#'); i > 0 {
		var kind Kind
		switch k[:i] {
		case "measure":
			kind = Distribution
		case "count":
			kind = Counter
		case "sample":
			kind = Gauge
		case "unique":
			kind = Unique
		default:
			return 0, "", false
		}
		return kind, k[i+1:], true
	}
	if name, ok := strings.CutPrefix(k, "measure."); ok {
		return Distribution, name, true
	}
	return 0, "", false
}

// l2metSample emits one l2met field.
func l2metSample(fn func(Sample), s Sample, kind Kind, name, v string) error {
	if name == "" {
		return ErrNoName
	}
	s.Name, s.Kind = name, kind
	switch {
	case kind == Unique:
		if v == "" {
			return ErrNoValue
		}
		s.Value, s.Str = 1, v
	case kind == Counter && v == "":
		s.Value = 1
	default:
		val, unit, ok := parseValue(v)
		if !ok {
			return ErrNotNumber
		}
		s.Value, s.Unit = val, unit
	}
	fn(s)
	return nil
}

// isRuntimeMetric reports whether name is one of log-runtime-metrics' gauges.
func isRuntimeMetric(name string) bool {
	return strings.HasPrefix(name, "memory_") || strings.HasPrefix(name, "load_avg_")
}
