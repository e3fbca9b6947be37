package cloudwatch_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/cloudwatch"
	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

// inlineSink is a sink in Inline mode, as `drainpipe lambda` runs it: no Dir.
func (e *env) inlineSink(t testing.TB, log *syncBuffer, mod func(c *cloudwatch.Config)) *testSink {
	t.Helper()
	return e.sink(t, func(c *cloudwatch.Config) {
		c.Inline, c.Dir = true, ""
		if log != nil {
			c.Logger = slog.New(slog.NewTextHandler(log, nil))
		}
		if mod != nil {
			mod(c)
		}
	})
}

// TestInlineNeedsNoDir: an Inline sink keeps nothing on disk, so it needs no
// directory; a sink that parks does.
func TestInlineNeedsNoDir(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := cloudwatch.New(cloudwatch.Config{Client: e.client(t)}); err == nil || !strings.Contains(err.Error(), "dir is required") {
		t.Fatalf("New without Dir = %v, want dir is required", err)
	}
	s := e.inlineSink(t, nil, nil)
	recs := lines("a", recent(), 0, 5)
	s.write(t, entry(1, recs...))
	e.wantMessages(t, "/heroku/a", day(recent()), recs)
}

// TestInlineFailingGroupIsAnError: with no park, a group that fails for good
// makes Write fail (the caller answers 503), while the other groups of the same
// Write are delivered; once the group works, the same lines go through.
func TestInlineFailingGroupIsAnError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var log syncBuffer
	s := e.inlineSink(t, &log, nil)
	e.emu.FailGroup("/heroku/a", "AccessDeniedException", "User is not authorized to perform: logs:PutLogEvents")
	a, b := lines("a", recent(), 0, 3), lines("b", recent(), 0, 3)
	err := s.Write(context.Background(), []drainpipe.Entry{entry(1, append(a, b...)...)})
	if err == nil || !strings.Contains(err.Error(), "/heroku/a") || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("Write = %v, want the failing group's error", err)
	}
	e.wantMessages(t, "/heroku/b", day(recent()), b)
	if got := e.messages("/heroku/a", day(recent())); len(got) != 0 {
		t.Fatalf("failing group holds %q", got)
	}
	if st := s.Status(); strings.HasPrefix(st["a"], "parked") {
		t.Errorf("status %v: an Inline sink parks nothing", st)
	}
	if l := log.String(); !strings.Contains(l, "its lines were not delivered") || !strings.Contains(l, "lines=3") {
		t.Errorf("the failure is not in the log:\n%s", l)
	}
	e.emu.FailGroup("/heroku/a", "", "")
	s.write(t, entry(2, a...))
	e.wantMessages(t, "/heroku/a", day(recent()), a)
}

// TestInlineRetentionWithinWrite: the retention of a new group is set before
// the Write that created it returns, once per group.
func TestInlineRetentionWithinWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.inlineSink(t, nil, func(c *cloudwatch.Config) { c.RetentionDays = 3 })
	s.write(t, entry(1, lines("a", recent(), 0, 3)...))
	if got := groupOf(e, "/heroku/a").RetentionDays; got != 3 {
		t.Fatalf("retention right after Write = %d, want 3", got)
	}
	s.write(t, entry(2, lines("a", recent(), 3, 3)...))
	if n := e.emu.Calls()["PutRetentionPolicy"]; n != 1 {
		t.Errorf("%d PutRetentionPolicy calls, want 1", n)
	}
}

// TestInlineRetentionFailureDoesNotFailWrite: a retention the role may not set
// is logged once; the lines are delivered all the same, and it is not asked again.
func TestInlineRetentionFailureDoesNotFailWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var log syncBuffer
	s := e.inlineSink(t, &log, func(c *cloudwatch.Config) {
		c.RetentionDays = 3
		c.Client = noRetention{c.Client}
	})
	recs := lines("a", recent(), 0, 4)
	s.write(t, entry(1, recs[:2]...))
	s.write(t, entry(2, recs[2:]...))
	e.wantMessages(t, "/heroku/a", day(recent()), recs)
	if n := strings.Count(log.String(), "cloudwatch retention not applied"); n != 1 {
		t.Errorf("%d warnings about the retention, want 1:\n%s", n, log.String())
	}
}

// noRetention is a client whose role may not set retention policies.
type noRetention struct{ cloudwatch.Client }

func (noRetention) PutRetentionPolicy(context.Context, *cloudwatchlogs.PutRetentionPolicyInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: logs:PutRetentionPolicy"}
}

// TestInlineRejectedLinesAreLogged: with no archive, a refused line is written
// whole to the log, and each Write ends with its own summary.
func TestInlineRejectedLinesAreLogged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var log syncBuffer
	s := e.inlineSink(t, &log, nil)
	old := time.Now().Add(-20 * 24 * time.Hour)
	for i, msg := range []string{"first stale line", "second stale line"} {
		s.write(t, entry(uint64(i+1), rec("a", old, msg)))
		l := log.String()
		if !strings.Contains(l, `msg="cloudwatch refused a line"`) || !strings.Contains(l, "app[web.1]: "+msg) {
			t.Fatalf("write %d: the refused line is not in the log:\n%s", i+1, l)
		}
		if n := strings.Count(l, "too_old=1"); n != i+1 {
			t.Fatalf("write %d: %d summaries, want one per Write:\n%s", i+1, n, l)
		}
	}
	if got := s.metric(t, "drainpipe_sink_rejected_lines_total", "sink", "cloudwatch", "reason", "too_old"); got != 2 {
		t.Errorf("too_old = %v, want 2", got)
	}
}

// TestInlineLeavesNothingRunning: when Write returns, delivered or cut short by
// its deadline, no goroutine of the sink is left: a Lambda is frozen the moment
// its handler returns, and anything still running would be lost.
//
// It does not run in parallel: other tests' sinks have background goroutines.
func TestInlineLeavesNothingRunning(t *testing.T) {
	e := newEnv(t)
	s := e.inlineSink(t, nil, func(c *cloudwatch.Config) { c.RetentionDays = 7 })
	if n := sinkGoroutines(t); n != 0 {
		t.Fatalf("%d sink goroutines right after New", n)
	}
	e.emu.SetFaults(cwlemu.Faults{ThrottleRate: 0.3, ServerErrorRate: 0.2})
	recs := append(lines("a", recent(), 0, 50), lines("b", recent(), 0, 50)...)
	s.write(t, entry(1, recs...))
	if n := sinkGoroutines(t); n != 0 {
		t.Fatalf("%d sink goroutines after a delivered Write", n)
	}
	e.emu.SetFaults(cwlemu.Faults{Down: true})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.Write(ctx, []drainpipe.Entry{entry(2, lines("c", recent(), 0, 10)...)}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Write while down = %v, want its deadline", err)
	}
	if n := sinkGoroutines(t); n != 0 {
		t.Fatalf("%d sink goroutines after a Write cut short", n)
	}
}

// sinkGoroutines counts the goroutines running the sink's own code (not the
// emulator's, not a test's own), at once, with no waiting.
func sinkGoroutines(t testing.TB) int {
	t.Helper()
	var b strings.Builder
	if err := pprof.Lookup("goroutine").WriteTo(&b, 2); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range strings.Split(b.String(), "\n\n") {
		if strings.Contains(g, "drainpipe/cloudwatch.") && !strings.Contains(g, "testing.tRunner") {
			n++
			t.Logf("sink goroutine:\n%s", g)
		}
	}
	return n
}
