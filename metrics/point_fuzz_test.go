package metrics_test

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/metrics"
)

// attrsFromText reads attributes one a line, key=value, as testdata/points.txt holds them.
func attrsFromText(s string) []drainpipe.Attr {
	var attrs []drainpipe.Attr
	for line := range strings.SplitSeq(s, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			attrs = append(attrs, drainpipe.Attr{Key: k, Value: v})
		}
	}
	return attrs
}

// FuzzParsePoint reads arbitrary attributes as a data point record: ParsePoint must
// never panic, what it accepts must aggregate, and its encoding must be a fixed
// point (parse, encode, parse, encode gives the same attributes).
func FuzzParsePoint(f *testing.F) {
	seeds, err := os.ReadFile("testdata/points.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, para := range strings.Split(string(seeds), "\n\n") {
		f.Add(para)
	}
	f.Add("metric.name=x\nmetric.type=exponential_histogram\nmetric.count=1\nmetric.scale=-10\nmetric.positive=-1:1\nmetric.negative=0:")
	f.Fuzz(func(t *testing.T, text string) {
		r := drainpipe.Record{App: "a", Time: time.Unix(1764000000, 0), Dyno: "web.1", MsgID: metrics.PointMsgID, Attrs: attrsFromText(text)}
		p, err := metrics.ParsePoint(&r)
		if err != nil {
			return
		}
		once := p.AppendAttrs(nil)
		r.Attrs = once
		p2, err := metrics.ParsePoint(&r)
		if err != nil {
			t.Fatalf("encoding of an accepted point does not parse: %v\n%q", err, once)
		}
		if twice := p2.AppendAttrs(nil); !reflect.DeepEqual(once, twice) {
			t.Fatalf("encoding changed in a round trip:\n%q\n%q", once, twice)
		}
		a, err := metrics.NewAggregator(metrics.Config{})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second time a cumulative point is a repeat
			if err := a.AddRecord(r); err != nil {
				t.Fatalf("an accepted point is refused by the aggregator: %v", err)
			}
		}
		for _, iv := range a.Flush(r.Time.Add(24 * time.Hour)) {
			if iv.Count < 0 || iv.Sum != iv.Sum || iv.Quantile(0.5) != iv.Quantile(0.5) {
				t.Fatalf("interval %+v", iv)
			}
		}
	})
}

// FuzzSeriesName splits arbitrary series names: it must never panic, and labels it
// reads must format and read back the same.
func FuzzSeriesName(f *testing.F) {
	f.Add(`http.server.duration{http.route="/a,b=\"c\"}",z="last"}`)
	f.Add(`x{a="1",}`)
	f.Add(`weird{name`)
	f.Fuzz(func(t *testing.T, s string) {
		name, labels := metrics.SplitSeriesName(s)
		if labels == nil {
			if name != s {
				t.Fatalf("no labels, but the name %q is not all of %q", name, s)
			}
			return
		}
		attrs := toAttrs(labels)
		again := name + metrics.FormatLabels(attrs)
		name2, labels2 := metrics.SplitSeriesName(again)
		if name2 != name || metrics.FormatLabels(toAttrs(labels2)) != metrics.FormatLabels(attrs) {
			t.Fatalf("%q → %q %q → %q → %q %q", s, name, labels, again, name2, labels2)
		}
	})
}

func toAttrs(labels [][2]string) []drainpipe.Attr {
	out := make([]drainpipe.Attr, len(labels))
	for i, l := range labels {
		out[i] = drainpipe.Attr{Key: l[0], Value: l[1]}
	}
	return out
}
