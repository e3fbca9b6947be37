package metrics

import (
	"errors"
	"strings"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/herokulog"
	"github.com/drainpipe/drainpipe/logfmt"
)

// Extract calls fn with every metric sample in r: router timings and counts, dyno
// runtime metrics, R errors, logplex drop reports, add-on metrics and l2met fields.
// A field that cannot be read is skipped and reported in the returned error (a
// join of *FieldError); the line's other samples are still delivered. Samples'
// strings point into r.Message: clone them to keep them. Extract allocates nothing
// for a line that reads cleanly.
func Extract(r drainpipe.Record, fn func(Sample)) error {
	if r.Malformed {
		// The header did not parse, so nothing says which dyno the line is from.
		return nil
	}
	msg := r.Message
	if r.Source == "heroku" {
		switch {
		case r.Dyno == "router":
			return extractRouter(r, fn)
		case strings.HasPrefix(msg, "Error R"):
			extractDynoError(r, fn)
			return nil
		}
	}
	if extractDropped(r, fn) {
		return nil
	}
	return extractL2met(r, fn)
}

// extractRouter turns a router line into request, status, error and timing samples.
func extractRouter(r drainpipe.Record, fn func(Sample)) error {
	var dyno, code, connect, service, status, bytes string
	logfmt.Scan(r.Message, func(k, v string) bool {
		switch k {
		case "dyno":
			dyno = v
		case "code":
			code = v
		case "connect":
			connect = v
		case "service":
			service = v
		case "status":
			status = v
		case "bytes":
			bytes = v
		}
		return true
	})
	s := Sample{Source: dyno, Kind: Counter, Value: 1, Time: r.Time}
	emit(fn, s, "router.requests")
	var errs []error
	if status != "" {
		if name, ok := statusName(status); ok {
			emit(fn, s, name)
		} else {
			errs = append(errs, &FieldError{Key: "status", Value: status, Err: ErrNotNumber})
		}
	}
	if code != "" {
		emit(fn, s, codeName("router.errors.", code))
	}
	s.Kind = Distribution
	errs = measure(fn, s, "router.connect", "connect", connect, "", errs)
	errs = measure(fn, s, "router.service", "service", service, "", errs)
	errs = measure(fn, s, "router.bytes", "bytes", bytes, "bytes", errs)
	return errors.Join(errs...)
}

func emit(fn func(Sample), s Sample, name string) {
	s.Name = name
	fn(s)
}

// measure emits the value v of field key under name, when there is one: the router
// leaves fields empty when they do not apply, which is not a fault.
func measure(fn func(Sample), s Sample, name, key, v, unit string, errs []error) []error {
	if v == "" {
		return errs
	}
	val, u, ok := parseValue(v)
	if !ok {
		return append(errs, &FieldError{Key: key, Value: v, Err: ErrNotNumber})
	}
	if u == "" {
		u = unit
	}
	s.Name, s.Value, s.Unit = name, val, u
	fn(s)
	return errs
}

var statusNames = [...]string{1: "router.status.1xx", 2: "router.status.2xx", 3: "router.status.3xx", 4: "router.status.4xx", 5: "router.status.5xx"}

func statusName(status string) (string, bool) {
	if len(status) != 3 || status[0] < '1' || status[0] > '5' ||
		status[1] < '0' || status[1] > '9' || status[2] < '0' || status[2] > '9' {
		return "", false
	}
	return statusNames[status[0]-'0'], true
}

// codeNames holds "router.errors.H10" ... so the hot path need not build them.
var codeNames = func() map[string]string {
	m := make(map[string]string)
	for _, p := range []string{"router.errors.", "dyno.errors."} {
		for _, l := range "HRL" {
			for n := 10; n < 100; n++ {
				code := string(l) + string(rune('0'+n/10)) + string(rune('0'+n%10))
				m[p+code] = p + code
			}
		}
	}
	return m
}()

// codeName returns prefix+code, without allocating for the codes Heroku uses.
func codeName(prefix, code string) string {
	if len(code) == 3 {
		var buf [32]byte
		b := append(append(buf[:0], prefix...), code...)
		if name, ok := codeNames[string(b)]; ok {
			return name
		}
	}
	return prefix + code
}

// extractDynoError counts "Error R14 (Memory quota exceeded)" against the dyno.
func extractDynoError(r drainpipe.Record, fn func(Sample)) {
	rest := r.Message[len("Error "):]
	end := strings.IndexAny(rest, " :(")
	if end < 0 {
		end = len(rest)
	}
	code := rest[:end]
	if len(code) < 2 || len(code) > 4 {
		return
	}
	fn(Sample{Name: codeName("dyno.errors.", code), Source: r.Dyno, Kind: Counter, Value: 1, Time: r.Time})
}

// extractDropped counts Heroku's reports of lines it lost (herokulog.LossReport)
// as logplex.dropped for the reporting dyno. It reports whether the line was one.
func extractDropped(r drainpipe.Record, fn func(Sample)) bool {
	n, ok := herokulog.LossReport(r)
	if ok {
		fn(Sample{Name: droppedName, Source: r.Dyno, Kind: Counter, Value: float64(n), Time: r.Time})
	}
	return ok
}

// droppedName is the metric of Heroku's loss reports.
const droppedName = "logplex.dropped"
