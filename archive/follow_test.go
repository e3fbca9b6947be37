package archive_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
)

func TestTailAndAfter(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	write(t, a, entry(1, seqLines("app", received, 10)...), entry(2, seqLines("other", received, 5)...))
	write(t, a, entry(3, seqLines("app", received.Add(time.Second), 10)...))

	tail, err := a.Tail(context.Background(), "app", 4)
	if err != nil {
		t.Fatal(err)
	}
	all, err := a.After(context.Background(), "app", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 20 || len(tail) != 4 {
		t.Fatalf("After(0) = %d lines, Tail(4) = %d; want 20, 4", len(all), len(tail))
	}
	for i, l := range tail {
		if l.ID != all[16+i].ID {
			t.Errorf("Tail[%d].ID = %d, want %d (oldest first)", i, l.ID, all[16+i].ID)
		}
	}
	next, err := a.After(context.Background(), "app", all[9].ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(next) != 3 || next[0].ID != all[10].ID || next[2].ID != all[12].ID {
		t.Errorf("After(%d, 3) = %v", all[9].ID, next)
	}
	if l, err := a.Tail(context.Background(), "app", 0); err != nil || len(l) != 0 {
		t.Errorf("Tail(0) = %d lines, %v", len(l), err)
	}
	if l, err := a.Tail(context.Background(), "nobody", 10); err != nil || len(l) != 0 {
		t.Errorf("Tail(nobody) = %d lines, %v", len(l), err)
	}
}

// TestTailOrder: Tail goes by the line's time, not by arrival, like heroku logs.
func TestTailOrder(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	late := seqLines("app", received.Add(-time.Minute), 3) // arrives last, happened first
	write(t, a, entry(1, seqLines("app", received, 3)...), entry(2, late...))
	tail, err := a.Tail(context.Background(), "app", 4)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, l := range tail {
		ids = append(ids, l.ID)
	}
	if want := []int64{6, 1, 2, 3}; !equal(ids, want) {
		t.Errorf("Tail ids = %v, want %v", ids, want)
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestWaitFollows runs a follower the way `drainpipe tail --follow` does:
// After, then Wait on the last ID seen.
func TestWaitFollows(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	ctx := context.Background()
	write(t, a, entry(1, seqLines("app", received, 3)...))
	seen, err := a.After(ctx, "app", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	last := seen[len(seen)-1].ID
	if err := a.Wait(ctx, last-1); err != nil {
		t.Fatalf("Wait for a committed line: %v", err)
	}

	done := make(chan error, 1)
	go func() { done <- a.Wait(ctx, last) }()
	select {
	case err := <-done:
		t.Fatalf("Wait returned %v before any new line", err)
	case <-time.After(50 * time.Millisecond):
	}
	write(t, a, entry(2, seqLines("app", received, 2)...))
	if err := <-done; err != nil {
		t.Fatalf("Wait: %v", err)
	}
	more, err := a.After(ctx, "app", last, 100)
	if err != nil || len(more) != 2 {
		t.Fatalf("After(%d) = %d lines, %v; want 2", last, len(more), err)
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() { done <- a.Wait(cctx, more[1].ID) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Wait after cancel = %v, want context.Canceled", err)
	}
	go func() { done <- a.Wait(ctx, more[1].ID) }()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, archive.ErrClosed) {
		t.Errorf("Wait across Close = %v, want ErrClosed", err)
	}
}

// TestIDsNeverReused deletes every line by retention, reopens, and writes
// again: new IDs must stay above every ID a follower may hold.
func TestIDsNeverReused(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "archive")
	a := open(t, archive.Config{Dir: dir, Retention: 48 * time.Hour})
	write(t, a, entry(1, seqLines("app", received, 5)...))
	if n, err := a.Prune(context.Background(), received.Add(5*24*time.Hour)); err != nil || n != 5 {
		t.Fatalf("Prune = %d, %v; want 5", n, err)
	}
	a.Close()
	b := open(t, archive.Config{Dir: dir})
	if err := b.Wait(context.Background(), 4); err != nil {
		t.Fatalf("Wait after reopen: %v", err)
	}
	write(t, b, entry(2, drainpipe.Record{App: "app", Time: received, Received: received, Message: "new"}))
	after, err := b.Tail(context.Background(), "app", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 1 || after[0].ID != 6 {
		t.Errorf("after deleting all and reopening, the new line is %+v, want id 6", after)
	}
}

// TestAfterWideLines follows 1,500 lines of 10 KB (15 MB, more than the
// engine's sort may hold at the default cache size): a follower asking for
// 1,000 at a time gets them all, in order, in smaller batches, instead of an
// error for good.
func TestAfterWideLines(t *testing.T) {
	t.Parallel()
	a := open(t, archive.Config{})
	recs := seqLines("app", received, 1500)
	for i := range recs {
		recs[i].Message += " " + strings.Repeat("k=v ", 2500)
	}
	write(t, a, entry(1, recs...))
	var got []archive.Line
	for last := int64(0); ; {
		lines, err := a.After(context.Background(), "app", last, 1000)
		if err != nil {
			t.Fatalf("After(%d, 1000): %v", last, err)
		}
		if len(lines) == 0 {
			break
		}
		got = append(got, lines...)
		last = lines[len(lines)-1].ID
	}
	if len(got) != len(recs) {
		t.Fatalf("followed %d lines, want %d", len(got), len(recs))
	}
	for i, l := range got {
		if l.Message != recs[i].Message {
			t.Fatalf("line %d is %.20q, want %.20q", i, l.Message, recs[i].Message)
		}
	}
}
