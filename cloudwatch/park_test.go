package cloudwatch_test

import (
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
