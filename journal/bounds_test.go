package journal_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/journal"
)

// sizeSink records, for every Write, the message bytes of each entry it carried.
type sizeSink struct {
	mu     sync.Mutex
	writes [][]int // per Write, per entry: the bytes of its lines' messages
	lines  int
}

func (s *sizeSink) Name() string { return "sizes" }

func (s *sizeSink) Write(_ context.Context, entries []drainpipe.Entry) error {
	var sizes []int
	n := 0
	for _, e := range entries {
		bytes := 0
		for _, b := range e.Batches {
			for _, r := range b.Records {
				bytes += len(r.Message)
			}
			n += len(b.Records)
		}
		sizes = append(sizes, bytes)
	}
	s.mu.Lock()
	s.writes = append(s.writes, sizes)
	s.lines += n
	s.mu.Unlock()
	return nil
}

func (s *sizeSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lines
}

// TestDeliveriesAreBoundedInBytes checks what bounds a sink's memory: a journal
// message holds at most MaxMessageBytes (group commit stops there, a larger batch
// is split), a Write carries at most ConsumeOptions.MaxBytes of messages, and a
// single line larger than both is still delivered, alone.
func TestDeliveriesAreBoundedInBytes(t *testing.T) {
	t.Parallel()
	const maxMsg, maxBytes = 64 << 10, 256 << 10
	j := open(t, journal.Config{MaxMessageBytes: maxMsg})
	ctx := context.Background()
	line := strings.Repeat("x", 1000)
	var wg sync.WaitGroup
	want := 0
	for i := range 40 { // 40 batches of 100 lines of 1 KB, appended at once: group commit gathers them
		b := batch("d1", fmt.Sprintf("k%d", i), 100)
		for k := range b.Records {
			b.Records[k].Message = line
		}
		want += len(b.Records)
		wg.Go(func() {
			if _, err := j.Append(ctx, b); err != nil {
				t.Errorf("append: %v", err)
			}
		})
	}
	wg.Wait()
	huge := batch("d1", "huge", 1)
	huge.Records[0].Message = strings.Repeat("h", 300<<10) // over MaxBytes on its own
	if _, err := j.Append(ctx, huge); err != nil {
		t.Fatalf("append the huge line: %v", err)
	}
	want++

	s := &sizeSink{}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- j.Consume(cctx, s, journal.ConsumeOptions{MaxBytes: maxBytes, AckWait: 5 * time.Second})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for s.count() < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if got := s.count(); got != want {
		t.Fatalf("sink got %d lines, want %d", got, want)
	}
	hugeAlone := false
	for i, w := range s.writes {
		total := 0
		for _, n := range w {
			total += n
			if n > maxMsg && n < 300<<10 {
				t.Errorf("write %d: a journal message carried %d bytes of lines, over MaxMessageBytes %d", i, n, maxMsg)
			}
		}
		if total >= 300<<10 {
			hugeAlone = len(w) == 1
			continue
		}
		if total > maxBytes {
			t.Errorf("write %d carried %d bytes of lines in %d messages, over MaxBytes %d", i, total, len(w), maxBytes)
		}
	}
	if !hugeAlone {
		t.Errorf("the line larger than MaxBytes did not come alone: %v", s.writes)
	}
	if len(s.writes) < 4000*1000/maxBytes {
		t.Errorf("%d writes for %d KB of lines: deliveries not bounded by MaxBytes", len(s.writes), want)
	}
}
