package ui

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// sample is one value of a gathered metric, with its labels.
type sample struct {
	labels map[string]string
	value  float64
}

// gathered is a snapshot of the Prometheus registry, by metric name: the system
// and drains pages read the server's state where /metrics reads it, so the two
// never disagree.
type gathered map[string][]sample

func gather(g prometheus.Gatherer) gathered {
	out := gathered{}
	if g == nil {
		return out
	}
	mfs, _ := g.Gather() // a collector's error leaves the others' metrics
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			s := sample{labels: map[string]string{}}
			for _, lp := range m.GetLabel() {
				s.labels[lp.GetName()] = lp.GetValue()
			}
			switch {
			case m.Counter != nil:
				s.value = m.Counter.GetValue()
			case m.Gauge != nil:
				s.value = m.Gauge.GetValue()
			case m.Untyped != nil:
				s.value = m.Untyped.GetValue()
			case m.Histogram != nil:
				s.value = float64(m.Histogram.GetSampleCount())
			case m.Summary != nil:
				s.value = float64(m.Summary.GetSampleCount())
			default:
				continue
			}
			out[mf.GetName()] = append(out[mf.GetName()], s)
		}
	}
	return out
}

// value is the sum of name's samples whose labels include want (every sample
// when want is empty), and whether there was any.
func (g gathered) value(name string, want ...string) (float64, bool) {
	var sum float64
	found := false
	for _, s := range g[name] {
		if matches(s.labels, want) {
			sum += s.value
			found = true
		}
	}
	return sum, found
}

// by sums name's samples per value of label, e.g. rejected lines per reason.
func (g gathered) by(name, label string, want ...string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range g[name] {
		if matches(s.labels, want) {
			out[s.labels[label]] += s.value
		}
	}
	return out
}

// labelValues lists the values label takes in name's samples, sorted.
func (g gathered) labelValues(name, label string) []string {
	var out []string
	for _, s := range g[name] {
		if v, ok := s.labels[label]; ok && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// matches reports whether labels hold every pair of want (k1, v1, k2, v2 ...).
func matches(labels map[string]string, want []string) bool {
	for i := 0; i+1 < len(want); i += 2 {
		if labels[want[i]] != want[i+1] {
			return false
		}
	}
	return true
}
