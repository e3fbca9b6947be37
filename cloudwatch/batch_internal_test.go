package cloudwatch

import (
	"strings"
	"testing"
	"time"
)

// checkBatches fails t unless bs hold exactly evs' messages, each batch within
// every PutLogEvents limit and in chronological order.
func checkBatches(t *testing.T, bs [][]event, want int) {
	t.Helper()
	n := 0
	for i, b := range bs {
		size := 0
		for j, e := range b {
			size += len(e.msg) + eventOverhead
			if j > 0 && e.ts < b[j-1].ts {
				t.Fatalf("batch %d: event %d before its predecessor", i, j)
			}
			if len(e.msg) == 0 || len(e.msg) > maxEventBytes {
				t.Fatalf("batch %d: event %d has %d bytes", i, j, len(e.msg))
			}
		}
		if len(b) == 0 || len(b) > maxBatchEvents || size > maxBatchBytes {
			t.Fatalf("batch %d: %d events, %d bytes", i, len(b), size)
		}
		if span := b[len(b)-1].ts - b[0].ts; span >= maxBatchSpan.Milliseconds() {
			t.Fatalf("batch %d spans %v", i, time.Duration(span)*time.Millisecond)
		}
		n += len(b)
	}
	if n != want {
		t.Fatalf("batches hold %d events, want %d", n, want)
	}
}

func TestBatches(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC).UnixMilli()
	hour := time.Hour.Milliseconds()
	tests := []struct {
		name    string
		evs     func() []event
		batches int
	}{
		{"count limit", func() []event { return repeat(20001, 10, func(int) int64 { return t0 }) }, 3},
		{"byte limit fills batches", func() []event { return repeat(10000, 250, func(int) int64 { return t0 }) }, 3},
		{"one event per batch at the size limit", func() []event { return repeat(3, maxEventBytes, func(int) int64 { return t0 }) }, 3},
		{"span over 24 h", func() []event { return repeat(60, 10, func(i int) int64 { return t0 + int64(i)*hour }) }, 3},
		{"exactly 24 h apart", func() []event { return repeat(2, 10, func(i int) int64 { return t0 + int64(i)*24*hour }) }, 2},
		{"out of order", func() []event { return repeat(1000, 10, func(i int) int64 { return t0 + int64((i*7919)%1000) }) }, 1},
		{"empty", func() []event { return nil }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			evs := tt.evs()
			bs := batches(evs)
			checkBatches(t, bs, len(evs))
			if len(bs) != tt.batches {
				t.Errorf("%d batches, want %d", len(bs), tt.batches)
			}
		})
	}
}

// TestBatchesStable: lines with the same time keep their order, so the parts of
// a split line stay consecutive.
func TestBatchesStable(t *testing.T) {
	t.Parallel()
	var evs []event
	for i := range 100 {
		evs = append(evs, event{ts: int64(i % 3), msg: "m", ord: i})
	}
	bs := batches(evs)
	checkBatches(t, bs, 100)
	last := map[int64]int{}
	for _, e := range bs[0] {
		if prev, ok := last[e.ts]; ok && e.ord < prev {
			t.Fatalf("ord %d after %d at the same time", e.ord, prev)
		}
		last[e.ts] = e.ord
	}
}

func repeat(n, size int, ts func(int) int64) []event {
	evs := make([]event, n)
	msg := strings.Repeat("x", size)
	for i := range evs {
		evs[i] = event{ts: ts(i), msg: msg, ord: i, line: true}
	}
	return evs
}

func TestUTCDay(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(86399, 0), 0},
		{time.Unix(86400, 0), 1},
		{time.Unix(-1, 0), -1},
		{time.Unix(-86400, 0), -1},
		{time.Unix(-86401, 0), -2},
	} {
		if got := utcDay(tt.t); got != tt.want {
			t.Errorf("utcDay(%v) = %d, want %d", tt.t.UTC(), got, tt.want)
		}
	}
}
