package cloudwatch_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

// TestLastError: while CloudWatch cannot be reached the sink's status says so
// (Write retries inside, so the journal never sees a failure); the first call that
// succeeds clears it.
func TestLastError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.sink(t, nil)
	if msg, _ := s.LastError(); msg != "" {
		t.Fatalf("a new sink's last error: %q", msg)
	}
	e.emu.SetFaults(cwlemu.Faults{Down: true})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Write(ctx, []drainpipe.Entry{entry(1, lines("a", recent(), 0, 10)...)}) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		msg, at := s.LastError()
		if strings.Contains(msg, "PutLogEvents") && time.Since(at) < time.Minute {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("last error %q while CloudWatch is down, want the failed put", msg)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Write while down = %v", err)
	}
	e.emu.SetFaults(cwlemu.Faults{})
	s.write(t, entry(1, lines("a", recent(), 0, 10)...))
	if msg, _ := s.LastError(); msg != "" {
		t.Fatalf("last error after a delivery: %q, want none", msg)
	}
}

// TestGroupFailureIsNotTheSinks: a group that fails for good is parked and its
// app says so; it is not the sink's last error, which every drain would show.
func TestGroupFailureIsNotTheSinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.sink(t, nil)
	e.emu.FailGroup("/heroku/bad", "AccessDeniedException", denied)
	s.write(t, entry(1, lines("bad", recent(), 0, 10)...))
	if got := s.Status()["bad"]; !strings.HasPrefix(got, "parked: AccessDeniedException") {
		t.Fatalf("status of bad = %q, want parked", got)
	}
	if msg, _ := s.LastError(); msg != "" {
		t.Errorf("the sink's last error is one group's: %q", msg)
	}
}
