package journal_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/journal"
)

// timedSink records when each Write came and how many lines it carried.
type timedSink struct {
	mu     sync.Mutex
	writes []time.Time
	lines  int
}

func (s *timedSink) Name() string { return "timed" }

func (s *timedSink) Write(_ context.Context, entries []drainpipe.Entry) error {
	n := 0
	for _, e := range entries {
		for _, b := range e.Batches {
			n += len(b.Records)
		}
	}
	s.mu.Lock()
	s.writes = append(s.writes, time.Now())
	s.lines += n
	s.mu.Unlock()
	return nil
}

// state is the lines taken so far and the time of each Write.
func (s *timedSink) state() (int, []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lines, append([]time.Time(nil), s.writes...)
}

// TestSinkAtTheEndIsPaced checks ConsumeOptions.HeadPace: a sink that keeps up
// with a steady stream of appends reads the journal's end at most once per
// HeadPace (with none, it reads after nearly every append), loses nothing, and a
// line after a quiet spell still comes at once.
func TestSinkAtTheEndIsPaced(t *testing.T) {
	t.Parallel()
	const load = 3 * time.Second
	for _, tc := range []struct {
		name                 string
		pace                 time.Duration
		maxMessages          int // per delivery
		minWrites, maxWrites int // during the load
	}{
		{"paced", time.Second, 256, 2, 2*int(load/time.Second) + 3},
		// A second's appends take seven deliveries of 16: the sink takes them one
		// after the other, not one delivery a second (it would fall behind for good).
		{"paced, a second's appends over a delivery", time.Second, 16, 2, 9*int(load/time.Second) + 3},
		{"unpaced", -1, 256, 20, 1 << 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j := open(t, journal.Config{})
			s := &timedSink{}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- j.Consume(ctx, s, journal.ConsumeOptions{HeadPace: tc.pace, MaxMessages: tc.maxMessages})
			}()
			defer func() { cancel(); <-done }()
			appended := 0
			add := func(key string) {
				if _, err := j.Append(context.Background(), batch("d", key, 5)); err != nil {
					t.Fatal(err)
				}
				appended += 5
			}
			delivered := func() { // every line appended so far
				t.Helper()
				waitUntil(t, 10*time.Second, "the sink to take every line", func() bool { n, _ := s.state(); return n == appended })
			}

			add("first")
			delivered()
			time.Sleep(max(tc.pace, 0) + 200*time.Millisecond) // a quiet spell longer than the pace
			sent := time.Now()
			add("after-quiet")
			delivered()
			if _, w := s.state(); w[len(w)-1].Sub(sent) > time.Second/2 {
				t.Errorf("a line after a quiet spell came %v after its append, want at once", w[len(w)-1].Sub(sent))
			}

			_, before := s.state()
			start := time.Now()
			for i := 0; time.Since(start) < load; i++ {
				add(fmt.Sprint("steady-", i))
				time.Sleep(10 * time.Millisecond)
			}
			end := time.Now()
			delivered()
			_, all := s.state()
			during := 0
			for _, w := range all[len(before):] {
				if w.Before(end) {
					during++
				}
			}
			if during < tc.minWrites || during > tc.maxWrites {
				t.Errorf("the sink was written %d times during %v of appends every 10 ms, want %d to %d",
					during, load, tc.minWrites, tc.maxWrites)
			}
		})
	}
}
