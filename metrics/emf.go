package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// CloudWatch's limits on an Embedded Metric Format document.
const (
	emfMaxMetrics    = 100
	emfMaxDimensions = 30
	emfMaxDimValue   = 1024
	emfMaxValues     = 100
	emfMaxDocument   = 1 << 20
	emfMaxName       = 255
)

// EMFOptions configures EMF documents.
type EMFOptions struct {
	// Namespace is the CloudWatch namespace; default "drainpipe".
	Namespace string
	// Dimensions are which of "app" and "source" the metrics are split by; default
	// both. Intervals that differ only in a left-out dimension are merged.
	Dimensions []string
	// Static are dimensions every document carries, such as {"env": "prod"}.
	Static map[string]string
	// HighResolution marks the metrics as 1-second storage resolution.
	HighResolution bool
}

// EMF renders intervals as CloudWatch Embedded Metric Format documents, one per app,
// source and interval start (more when one would exceed 100 metrics). Each interval
// becomes metrics named after it: Distribution and Gauge give name.count, .sum, .min,
// .max, .last, .p50, .p95 and .p99; Counter gives name (its sum) and Unique name (its
// distinct count). An empty app or source leaves its dimension out.
//
// Every document is checked with ValidateEMF. An interval that cannot be rendered
// validly (a dimension value over 1,024 characters, a name CloudWatch refuses) is
// left out and named in the returned error; the documents returned with that error
// are still valid and hold everything else.
func EMF(intervals []Interval, opt EMFOptions) ([][]byte, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	var errs []error
	var docs [][]byte
	for _, g := range groupForEMF(intervals, opt) {
		for _, d := range g.documents(opt, &errs) {
			b, err := json.Marshal(d)
			if err == nil {
				err = ValidateEMF(b)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("emf document for app %q source %q: %w", g.app, g.source, err))
				continue
			}
			docs = append(docs, b)
		}
	}
	return docs, errors.Join(errs...)
}

// Validate reports what EMF would refuse in o, so a mistake in the configuration
// stops a server at start rather than failing every flush.
func (o EMFOptions) Validate() error {
	_, err := o.withDefaults()
	return err
}

func (o EMFOptions) withDefaults() (EMFOptions, error) {
	if o.Namespace == "" {
		o.Namespace = "drainpipe"
	}
	if len(o.Namespace) > emfMaxName || strings.HasPrefix(o.Namespace, "AWS/") {
		return o, fmt.Errorf("emf namespace %q: must be 1-255 characters, not under AWS/", o.Namespace)
	}
	if o.Dimensions == nil {
		o.Dimensions = []string{"app", "source"}
	}
	for _, d := range o.Dimensions {
		if d != "app" && d != "source" {
			return o, fmt.Errorf("emf dimension %q: only app and source come from intervals", d)
		}
	}
	if n := len(o.Dimensions) + len(o.Static); n > emfMaxDimensions {
		return o, fmt.Errorf("emf: %d dimensions, at most %d", n, emfMaxDimensions)
	}
	for k, v := range o.Static {
		if k == "app" || k == "source" || k == "_aws" || !validDimValue(k) || !validDimValue(v) {
			return o, fmt.Errorf("emf static dimension %q=%q: not allowed", k, v)
		}
	}
	return o, nil
}

func validDimValue(v string) bool {
	return v != "" && utf8.RuneCountInString(v) <= emfMaxDimValue && utf8.ValidString(v)
}

// emfGroup is the intervals that share one document's dimensions and timestamp.
type emfGroup struct {
	app, source string
	// labels are an OpenTelemetry series' attributes, dimensions of their own.
	labels  [][2]string
	startMS int64
	ivs     []Interval
}

func groupForEMF(intervals []Interval, opt EMFOptions) []*emfGroup {
	useApp, useSource := slices.Contains(opt.Dimensions, "app"), slices.Contains(opt.Dimensions, "source")
	type key struct {
		app, source, labels string
		ms                  int64
	}
	groups := make(map[key]*emfGroup)
	var order []*emfGroup
	for _, iv := range intervals {
		metric, labels := SplitSeriesName(iv.Name)
		k := key{ms: iv.Start.UnixMilli(), labels: iv.Name[len(metric):]}
		if useApp {
			k.app = iv.App
		}
		if useSource {
			k.source = iv.Source
		}
		g := groups[k]
		if g == nil {
			g = &emfGroup{app: k.app, source: k.source, labels: labels, startMS: k.ms}
			groups[k] = g
			order = append(order, g)
		}
		g.add(iv)
	}
	return order
}

// add puts iv in the group, merging it with an interval of the same metric that
// differs only in a dimension the documents leave out.
func (g *emfGroup) add(iv Interval) {
	iv.App, iv.Source = g.app, g.source
	for i := range g.ivs {
		o := &g.ivs[i]
		if o.Name == iv.Name && o.Unit == iv.Unit && o.Kind == iv.Kind {
			if o.merge(iv) == nil {
				return
			}
		}
	}
	g.ivs = append(g.ivs, iv)
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit,omitempty"`
	Res  int    `json:"StorageResolution,omitempty"`
}

type emfDoc struct {
	dims    map[string]string
	metrics []emfMetric
	values  map[string]float64
	ms      int64
	ns      string
}

// MarshalJSON writes the document: the _aws directive, the dimensions and the values
// as top-level members.
func (d *emfDoc) MarshalJSON() ([]byte, error) {
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range d.dims {
			if !yield(k) {
				return
			}
		}
	})
	m := map[string]any{"_aws": map[string]any{
		"Timestamp": d.ms,
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  d.ns,
			"Dimensions": [][]string{keys},
			"Metrics":    d.metrics,
		}},
	}}
	for k, v := range d.dims {
		m[k] = v
	}
	for k, v := range d.values {
		m[k] = v
	}
	return json.Marshal(m)
}

// documents lays the group's metrics out in documents of at most 100 metrics, with no
// name twice in one document.
func (g *emfGroup) documents(opt EMFOptions, errs *[]error) []*emfDoc {
	dims := map[string]string{}
	for k, v := range opt.Static {
		dims[k] = v
	}
	for _, d := range []struct{ k, v string }{{"app", g.app}, {"source", g.source}} {
		if d.v == "" {
			continue
		}
		if !validDimValue(d.v) {
			*errs = append(*errs, fmt.Errorf("emf: %s %q: dimension values must be 1-%d characters of valid UTF-8", d.k, truncate(d.v), emfMaxDimValue))
			return nil
		}
		dims[d.k] = d.v
	}
	if err := g.labelDimensions(dims); err != nil {
		*errs = append(*errs, err)
		return nil
	}
	res := 0
	if opt.HighResolution {
		res = 1
	}
	var docs []*emfDoc
	for _, iv := range g.ivs {
		ms, err := emfMetrics(iv, dims, res)
		if err != nil {
			*errs = append(*errs, err)
			continue
		}
		docs = place(docs, ms, func() *emfDoc {
			return &emfDoc{dims: dims, values: map[string]float64{}, ms: g.startMS, ns: opt.Namespace}
		})
	}
	return docs
}

// labelDimensions adds the group's labels to dims; a label named like a dimension
// already there is prefixed "otel.".
func (g *emfGroup) labelDimensions(dims map[string]string) error {
	for _, l := range g.labels {
		k := l[0]
		if _, clash := dims[k]; clash || k == "_aws" {
			k = "otel." + k
		}
		if !validDimValue(k) || !validDimValue(l[1]) || len(dims) >= emfMaxDimensions {
			return fmt.Errorf("emf: series of app %q source %q: attribute %q=%q cannot be a dimension (1-%d characters, at most %d dimensions)",
				g.app, truncate(g.source), truncate(l[0]), truncate(l[1]), emfMaxDimValue, emfMaxDimensions)
		}
		dims[k] = l[1]
	}
	return nil
}

type namedValue struct {
	m emfMetric
	v float64
}

// place adds ms to the first document with room and none of their names.
func place(docs []*emfDoc, ms []namedValue, newDoc func() *emfDoc) []*emfDoc {
	for _, d := range docs {
		if len(d.metrics)+len(ms) > emfMaxMetrics {
			continue
		}
		if slices.ContainsFunc(ms, func(nv namedValue) bool { _, dup := d.values[nv.m.Name]; return dup }) {
			continue
		}
		d.add(ms)
		return docs
	}
	d := newDoc()
	d.add(ms)
	return append(docs, d)
}

func (d *emfDoc) add(ms []namedValue) {
	for _, nv := range ms {
		d.metrics = append(d.metrics, nv.m)
		d.values[nv.m.Name] = nv.v
	}
}

// emfMetrics names the values of one interval, or says why it cannot be sent.
func emfMetrics(iv Interval, dims map[string]string, res int) ([]namedValue, error) {
	unit := cloudWatchUnit(iv.Unit)
	name, _ := SplitSeriesName(iv.Name)
	var ms []namedValue
	switch iv.Kind {
	case Counter:
		ms = []namedValue{{emfMetric{name, orCount(unit), res}, iv.Sum}}
	case Unique:
		ms = []namedValue{{emfMetric{name, "Count", res}, iv.Sum}}
	default:
		for _, s := range []struct {
			suffix, unit string
			v            float64
		}{{"count", "Count", iv.Count}, {"sum", unit, iv.Sum}, {"min", unit, iv.Min}, {"max", unit, iv.Max},
			{"last", unit, iv.Last}, {"p50", unit, iv.Quantile(0.5)}, {"p95", unit, iv.Quantile(0.95)}, {"p99", unit, iv.Quantile(0.99)}} {
			ms = append(ms, namedValue{emfMetric{name + "." + s.suffix, s.unit, res}, s.v})
		}
	}
	for _, nv := range ms {
		_, clash := dims[nv.m.Name]
		if clash || nv.m.Name == "_aws" || !utf8.ValidString(nv.m.Name) || utf8.RuneCountInString(nv.m.Name) > emfMaxName ||
			math.IsNaN(nv.v) || math.Abs(nv.v) > maxValue {
			return nil, fmt.Errorf("emf: metric %q of app %q source %q cannot be sent to CloudWatch", truncate(nv.m.Name), iv.App, truncate(iv.Source))
		}
	}
	return ms, nil
}

func orCount(unit string) string {
	if unit == "" {
		return "Count"
	}
	return unit
}

// cloudWatchUnit maps a log unit to CloudWatch's; an unknown unit is sent as none.
func cloudWatchUnit(u string) string {
	switch u {
	case "ms":
		return "Milliseconds"
	case "s":
		return "Seconds"
	case "us":
		return "Microseconds"
	case "bytes", "B":
		return "Bytes"
	case "kB", "KB":
		return "Kilobytes"
	case "MB":
		return "Megabytes"
	case "GB":
		return "Gigabytes"
	case "TB":
		return "Terabytes"
	case "%":
		return "Percent"
	}
	return ""
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// ValidateEMF checks doc against CloudWatch's rules for Embedded Metric Format, which
// drops an invalid document without a word: a JSON object of at most 1 MB with an
// _aws directive holding a Timestamp and CloudWatchMetrics; each directive with a
// Namespace, at most 100 metrics, each named and present as a number or an array of
// at most 100 numbers; dimension sets of at most 30 keys, each a string member of
// 1-1,024 characters.
func ValidateEMF(doc []byte) error {
	if len(doc) > emfMaxDocument {
		return fmt.Errorf("emf: document of %d bytes exceeds %d", len(doc), emfMaxDocument)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return fmt.Errorf("emf: %w", err)
	}
	var aws struct {
		Timestamp         *int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string      `json:"Namespace"`
			Dimensions [][]string  `json:"Dimensions"`
			Metrics    []emfMetric `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	}
	raw, ok := top["_aws"]
	if !ok {
		return errors.New("emf: no _aws member")
	}
	if err := json.Unmarshal(raw, &aws); err != nil {
		return fmt.Errorf("emf: _aws: %w", err)
	}
	if aws.Timestamp == nil || len(aws.CloudWatchMetrics) == 0 {
		return errors.New("emf: _aws needs Timestamp and CloudWatchMetrics")
	}
	for _, dir := range aws.CloudWatchMetrics {
		if err := validateDirective(top, dir.Namespace, dir.Dimensions, dir.Metrics); err != nil {
			return err
		}
	}
	return nil
}

func validateDirective(top map[string]json.RawMessage, ns string, dimSets [][]string, metrics []emfMetric) error {
	if ns == "" || len(ns) > emfMaxName {
		return fmt.Errorf("emf: namespace %q", ns)
	}
	if len(metrics) == 0 || len(metrics) > emfMaxMetrics {
		return fmt.Errorf("emf: %d metrics in a directive, want 1-%d", len(metrics), emfMaxMetrics)
	}
	for _, set := range dimSets {
		if len(set) > emfMaxDimensions {
			return fmt.Errorf("emf: %d keys in a dimension set, at most %d", len(set), emfMaxDimensions)
		}
		for _, k := range set {
			var v string
			if err := json.Unmarshal(top[k], &v); err != nil || !validDimValue(v) {
				return fmt.Errorf("emf: dimension %q must be a string member of 1-%d characters", k, emfMaxDimValue)
			}
		}
	}
	for _, m := range metrics {
		if m.Name == "" || utf8.RuneCountInString(m.Name) > emfMaxName {
			return fmt.Errorf("emf: metric name %q", truncate(m.Name))
		}
		if m.Res != 0 && m.Res != 1 && m.Res != 60 {
			return fmt.Errorf("emf: metric %q: StorageResolution %d", m.Name, m.Res)
		}
		if err := validateValue(top[m.Name]); err != nil {
			return fmt.Errorf("emf: metric %q: %w", truncate(m.Name), err)
		}
	}
	return nil
}

func validateValue(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return errors.New("no value")
	}
	if raw[0] == '[' {
		var vs []float64
		if err := json.Unmarshal(raw, &vs); err != nil {
			return fmt.Errorf("values: %w", err)
		}
		if len(vs) == 0 || len(vs) > emfMaxValues {
			return fmt.Errorf("%d values, want 1-%d", len(vs), emfMaxValues)
		}
		for _, v := range vs {
			if math.Abs(v) > maxValue {
				return fmt.Errorf("value %g out of range", v)
			}
		}
		return nil
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("value: %w", err)
	}
	if math.Abs(v) > maxValue {
		return fmt.Errorf("value %g out of range", v)
	}
	return nil
}
