package cloudwatch_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/cloudwatch"
)

const denied = "User: arn:aws:iam::123456789012:user/drainpipe is not authorized to perform: logs:PutLogEvents"

// TestParkFailingGroup: a group failing with AccessDenied is parked while the other
// apps flow; its later lines join the park; once fixed, the park is delivered in
// order and removed.
func TestParkFailingGroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.sink(t, func(c *cloudwatch.Config) { c.Concurrency = 2 })
	t0 := recent()
	e.emu.FailGroup("/heroku/bad", "AccessDeniedException", denied)

	var bad []drainpipe.Record
	for seq := range 3 {
		b := lines("bad", t0, seq*100, 100)
		good := lines("good", t0, seq*100, 100)
		bad = append(bad, b...)
		s.write(t, entry(uint64(seq+1), slices.Concat(b, good)...))
		e.wantMessages(t, "/heroku/good", day(t0), lines("good", t0, 0, (seq+1)*100))
	}
	if got := s.Status()["bad"]; !strings.HasPrefix(got, "parked: AccessDeniedException: User:") {
		t.Errorf("status of bad = %q", got)
	}
	if got := s.Status()["good"]; got != "ok" {
		t.Errorf("status of good = %q", got)
	}
	if s.metric(t, "drainpipe_cloudwatch_group_failing", "group", "/heroku/bad") != 1 {
		t.Error("failing group not in metrics")
	}
	if len(e.messages("/heroku/bad", day(t0))) != 0 {
		t.Fatal("events stored in a failing group")
	}

	e.emu.FailGroup("/heroku/bad", "", "")
	eventually(t, "park delivered", func() bool { return s.Status()["bad"] == "ok" })
	more := lines("bad", t0, 300, 10)
	s.write(t, entry(4, more...))
	e.wantMessages(t, "/heroku/bad", day(t0), append(bad, more...))
	if s.metric(t, "drainpipe_cloudwatch_group_failing", "group", "/heroku/bad") != 0 {
		t.Error("recovered group still failing in metrics")
	}
	if parks, _ := filepath.Glob(filepath.Join(s.dir, "*")); len(parks) != 0 {
		t.Errorf("park files left: %v", parks)
	}
}

// TestParkResumesAfterRestart: a new Sink on the same Dir finds the park, keeps
// appending behind it, and delivers it all in order once the group works.
func TestParkResumesAfterRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := t.TempDir()
	withDir := func(c *cloudwatch.Config) { c.Dir = dir }
	t0 := recent()
	e.emu.FailGroup("/heroku/bad", "AccessDeniedException", denied)

	s1 := e.sink(t, withDir)
	first := lines("bad", t0, 0, 50)
	s1.write(t, entry(1, first...))
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := e.sink(t, withDir)
	if got := s2.Status()["bad"]; !strings.HasPrefix(got, "parked:") {
		t.Errorf("status after restart = %q", got)
	}
	second := lines("bad", t0, 50, 50)
	s2.write(t, entry(2, second...))
	e.emu.FailGroup("/heroku/bad", "", "")
	eventually(t, "park delivered", func() bool { return s2.Status()["bad"] == "ok" })
	e.wantMessages(t, "/heroku/bad", day(t0), append(first, second...))
}

// TestParkTornTail: a record cut short by a crash is dropped on restart (its Write
// never returned, so the journal sends it again); what came before is delivered.
func TestParkTornTail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := t.TempDir()
	withDir := func(c *cloudwatch.Config) { c.Dir = dir }
	t0 := recent()
	e.emu.FailGroup("/heroku/bad", "AccessDeniedException", denied)
	s1 := e.sink(t, withDir)
	first := lines("bad", t0, 0, 5)
	s1.write(t, entry(1, first...))
	s1.Close()
	parks, _ := filepath.Glob(filepath.Join(dir, "*.park"))
	if len(parks) != 1 {
		t.Fatalf("parks %v", parks)
	}
	f, err := os.OpenFile(parks[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"s":"x","a":"bad","t":1,"m":"torn`)
	f.Close()

	e.emu.FailGroup("/heroku/bad", "", "")
	s2 := e.sink(t, withDir)
	eventually(t, "park delivered", func() bool { return s2.Status()["bad"] == "ok" })
	e.wantMessages(t, "/heroku/bad", day(t0), first)
}

// TestParkKeepsOtherAppsFlowing: while one group's park is retried in the
// background, Write for other apps is not held up.
func TestParkKeepsOtherAppsFlowing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.sink(t, func(c *cloudwatch.Config) { c.ParkBackoffMax = time.Millisecond })
	t0 := recent()
	e.emu.FailGroup("/heroku/bad", "UnrecognizedClientException", "The security token included in the request is invalid.")
	s.write(t, entry(1, lines("bad", t0, 0, 10)...))
	for i := range 20 {
		s.write(t, entry(uint64(i+2), lines("good", t0, i*10, 10)...))
	}
	e.wantMessages(t, "/heroku/good", day(t0), lines("good", t0, 0, 200))
	if got := s.Status()["bad"]; !strings.Contains(got, "UnrecognizedClientException") {
		t.Errorf("status of bad = %q", got)
	}
}

// TestParkAtGroupQuota: with the account at its log-group quota, CreateLogGroup
// answers LimitExceededException for a new app's group, which lasts until groups
// are deleted: that group is parked and the other apps keep flowing (it was
// retried inside Write, which then never returned); once there is room, the park
// is delivered in order. The same holds when every call naming the group answers
// it (FailGroup).
func TestParkAtGroupQuota(t *testing.T) {
	t.Parallel()
	const limit = "Resource limit exceeded."
	tests := []struct {
		name  string
		fail  func(e *env)
		clear func(e *env)
	}{
		{"account at its quota",
			func(e *env) { e.emu.SetGroupQuota(len(e.emu.Groups())) },
			func(e *env) { e.emu.DeleteGroup("/heroku/spare") }},
		{"every call of the group",
			func(e *env) { e.emu.FailGroup("/heroku/new", "LimitExceededException", limit) },
			func(e *env) { e.emu.FailGroup("/heroku/new", "", "") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			s := e.sink(t, nil)
			t0 := recent()
			s.write(t, entry(1, slices.Concat(lines("good", t0, 0, 10), lines("spare", t0, 0, 1))...))
			tt.fail(e)

			var stuck []drainpipe.Record
			for seq := range 3 {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				n := lines("new", t0, seq*10, 10)
				stuck = append(stuck, n...)
				err := s.Write(ctx, []drainpipe.Entry{entry(uint64(seq+2), slices.Concat(n, lines("good", t0, 10+seq*10, 10))...)})
				cancel()
				if err != nil {
					t.Fatalf("write %d: %v (one group's quota error held the others)", seq, err)
				}
			}
			e.wantMessages(t, "/heroku/good", day(t0), lines("good", t0, 0, 40))
			if got := s.Status()["new"]; got != "parked: LimitExceededException: "+limit {
				t.Errorf("status of new = %q", got)
			}
			if s.metric(t, "drainpipe_cloudwatch_group_failing", "group", "/heroku/new") != 1 {
				t.Error("group at the quota not failing in metrics")
			}

			tt.clear(e)
			eventually(t, "park delivered", func() bool { return s.Status()["new"] == "ok" })
			e.wantMessages(t, "/heroku/new", day(t0), stuck)
		})
	}
}
