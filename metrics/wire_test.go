package metrics_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/metrics"
)

// wireIntervals are intervals of every kind, with a sketch, a distinct set, an
// overflowed sum and a negative minimum.
func wireIntervals() []metrics.Interval {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	sk := metrics.NewSketch()
	for _, v := range []float64{-3, 0, 1.5, 1e9} {
		sk.Add(v)
	}
	ds := metrics.NewDistinct()
	ds.Add("alice")
	ds.Add("bob")
	return []metrics.Interval{
		{ID: "b-1", App: "shop", Name: "router.requests", Source: "web.1", Kind: metrics.Counter,
			Start: t0, Length: time.Minute, Count: 3, Sum: math.Inf(1), Min: 1, Max: 1, Last: 1, LastAt: t0.Add(time.Second)},
		{ID: "b-2", App: "shop", Name: "router.service", Unit: "ms", Kind: metrics.Distribution,
			Start: t0, Length: time.Minute, Count: 4, Sum: 1e9 - 1.5, Min: -3, Max: 1e9, Last: 1.5, LastAt: t0, Sketch: sk},
		{App: "ünï", Name: "user", Kind: metrics.Unique, Start: t0, Length: 10 * time.Second, Count: 2, Sum: 2, LastAt: t0, Distinct: ds},
	}
}

func TestWireRoundTrip(t *testing.T) {
	want := wireIntervals()
	got, err := metrics.DecodeIntervals(metrics.EncodeIntervals(want))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("decoded %d intervals, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Sketch != nil && g.Quantile(0.5) != w.Quantile(0.5) || (g.Distinct == nil) != (w.Distinct == nil) {
			t.Errorf("interval %d: sketch or set differ", i)
		}
		if g.Distinct != nil && g.Distinct.Estimate() != w.Distinct.Estimate() {
			t.Errorf("interval %d: distinct %v, want %v", i, g.Distinct.Estimate(), w.Distinct.Estimate())
		}
		g.Sketch, w.Sketch, g.Distinct, w.Distinct = nil, nil, nil, nil
		if !reflect.DeepEqual(g, w) {
			t.Errorf("interval %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if got, err := metrics.DecodeIntervals(metrics.EncodeIntervals(nil)); err != nil || len(got) != 0 {
		t.Fatalf("no intervals: %v %v", got, err)
	}
}

// TestWireRefusesDamage: truncated, extended or unknown messages are errors.
func TestWireRefusesDamage(t *testing.T) {
	b := metrics.EncodeIntervals(wireIntervals())
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"version":   append([]byte{9}, b[1:]...),
		"truncated": b[:len(b)-3],
		"trailing":  append(append([]byte{}, b...), 0),
		"count":     {1, 0xff, 0xff, 0xff, 0xff, 0x0f},
	} {
		if _, err := metrics.DecodeIntervals(bad); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// FuzzDecodeIntervals: no input panics, and what decodes encodes back to the
// same intervals.
func FuzzDecodeIntervals(f *testing.F) {
	f.Add(metrics.EncodeIntervals(wireIntervals()))
	f.Add(metrics.EncodeIntervals(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		ivs, err := metrics.DecodeIntervals(b)
		if err != nil {
			return
		}
		again, err := metrics.DecodeIntervals(metrics.EncodeIntervals(ivs))
		if err != nil || len(again) != len(ivs) {
			t.Fatalf("re-encoded intervals do not decode: %v", err)
		}
	})
}
