package cloudwatch_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/cloudwatch"
	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

var _ drainpipe.Sink = (*cloudwatch.Sink)(nil)

// recent is a time well inside CloudWatch's window, at the start of a UTC day so
// that a test's lines share a stream.
func recent() time.Time {
	return time.Now().UTC().Add(-48 * time.Hour).Truncate(24 * time.Hour).Add(time.Hour)
}

// TestCreateOnDemand: a put to a missing group creates the group and the stream; a
// put to a missing stream of an existing group creates only the stream.
func TestCreateOnDemand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		setup       func(t *testing.T, e *env)
		wantGroups  int
		wantStreams int
	}{
		{"missing group", func(*testing.T, *env) {}, 1, 1},
		{"missing stream", func(t *testing.T, e *env) {
			_, err := e.client(t).CreateLogGroup(context.Background(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/heroku/a")})
			if err != nil {
				t.Fatal(err)
			}
		}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			tt.setup(t, e)
			before := e.emu.Calls()
			s := e.sink(t, nil)
			t0 := recent()
			recs := lines("a", t0, 0, 100)
			s.write(t, entry(1, recs...))
			e.wantMessages(t, "/heroku/a", day(t0), recs)
			calls := e.emu.Calls()
			if n := calls["CreateLogGroup"] - before["CreateLogGroup"]; n != tt.wantGroups {
				t.Errorf("%d CreateLogGroup calls, want %d", n, tt.wantGroups)
			}
			if n := calls["CreateLogStream"] - before["CreateLogStream"]; n != tt.wantStreams {
				t.Errorf("%d CreateLogStream calls, want %d", n, tt.wantStreams)
			}
			// Known now: the next put goes straight through.
			s.write(t, entry(2, lines("a", t0, 100, 1)...))
			if n := e.emu.Calls()["PutLogEvents"] - calls["PutLogEvents"]; n != 1 {
				t.Errorf("%d puts for a known stream, want 1", n)
			}
		})
	}
}

// TestNamingAndDays: one group per app, one stream per UTC day, per-drain override.
func TestNamingAndDays(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	drains := drainMap{"d_custom": {ID: "d_custom", App: "custom", CloudWatchGroup: "/teams/{app}/{source}"}}
	s := e.sink(t, func(c *cloudwatch.Config) { c.Drains = drains })
	t0 := recent().Add(22 * time.Hour) // 23:00: the next lines cross midnight
	a := lines("a", t0, 0, 10)
	a2 := []drainpipe.Record{rec("a", t0.Add(2*time.Hour), "after midnight")}
	b := lines("b", t0, 0, 5)
	c := lines("custom", t0, 0, 3)
	s.write(t, entry(1, slices.Concat(a, a2, b, c)...))
	e.wantMessages(t, "/heroku/a", day(t0), a)
	e.wantMessages(t, "/heroku/a", day(t0.Add(2*time.Hour)), a2)
	e.wantMessages(t, "/heroku/b", day(t0), b)
	e.wantMessages(t, "/teams/custom/app", day(t0), c)
	if st := s.Status(); st["a"] != "ok" || st["b"] != "ok" || st["custom"] != "ok" {
		t.Errorf("status %v", st)
	}
}

type drainMap map[string]drainpipe.Drain

func (m drainMap) Drain(id string) (drainpipe.Drain, bool) { d, ok := m[id]; return d, ok }

// TestCreationRace: two sinks (two nodes) create the same group and stream at once;
// the loser's ResourceAlreadyExistsException is success and nothing is lost.
func TestCreationRace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	t0 := recent()
	s1, s2 := e.sink(t, nil), e.sink(t, nil)
	var wg sync.WaitGroup
	for i, s := range []*testSink{s1, s2} {
		wg.Go(func() {
			for j := range 5 {
				s.write(t, entry(uint64(j+1), lines("a", t0, (i*5+j)*100, 100)...))
			}
		})
	}
	wg.Wait()
	got := e.messages("/heroku/a", day(t0))
	if len(got) != 1000 {
		t.Fatalf("%d events, want 1000", len(got))
	}
	want := lines("a", t0, 0, 1000)
	seen := map[string]int{}
	for _, m := range got {
		seen[m]++
	}
	for _, r := range want {
		if seen["app[web.1]: "+r.Message] != 1 {
			t.Fatalf("%q stored %d times", r.Message, seen[r.Message])
		}
	}
}

// TestFaultsExactlyOnce: with 30% of calls throttled and 10% failing with 5xx, every
// line of every app arrives exactly once, in order, and the retries are counted.
func TestFaultsExactlyOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.emu.SetFaults(cwlemu.Faults{ThrottleRate: 0.3, ServerErrorRate: 0.1})
	s := e.sink(t, nil)
	t0 := recent()
	apps := []string{"a", "b", "c"}
	want := map[string][]drainpipe.Record{}
	for seq := range 20 {
		var recs []drainpipe.Record
		for _, app := range apps {
			l := lines(app, t0, seq*50, 50)
			want[app] = append(want[app], l...)
			recs = append(recs, l...)
		}
		s.write(t, entry(uint64(seq+1), recs...))
	}
	for _, app := range apps {
		e.wantMessages(t, "/heroku/"+app, day(t0), want[app])
	}
	if s.metric(t, "drainpipe_sink_retries_total", "sink", "cloudwatch") == 0 {
		t.Error("no retries counted")
	}
	if s.metric(t, "drainpipe_cloudwatch_api_calls_total", "operation", "PutLogEvents", "outcome", "throttled") == 0 {
		t.Error("no throttled calls counted")
	}
}

// TestTransientFaultsHoldWrite: while the service is down Write keeps trying and
// never reports the lines delivered; it returns only when its context ends.
func TestTransientFaultsHoldWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.emu.SetFaults(cwlemu.Faults{Down: true})
	s := e.sink(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for e.emu.Calls()["PutLogEvents"] < 10 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	err := s.Write(ctx, []drainpipe.Entry{entry(1, lines("a", recent(), 0, 10)...)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Write while down = %v, want context.Canceled", err)
	}
	e.emu.SetFaults(cwlemu.Faults{})
	recs := lines("a", recent(), 0, 10)
	s.write(t, entry(1, recs...))
	e.wantMessages(t, "/heroku/a", day(recent()), recs)
}

// TestSpanAndOrder: lines out of order and spread over three days in one stream go
// out in chronological batches, each under 24 hours.
func TestSpanAndOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.sink(t, func(c *cloudwatch.Config) { c.StreamTemplate = "{dyno}" })
	t0 := time.Now().Add(-4 * 24 * time.Hour)
	var recs []drainpipe.Record
	for i := range 300 {
		recs = append(recs, rec("a", t0.Add(time.Duration(i)*15*time.Minute), "l"+string(rune('0'+i%10))+time.Duration(i).String()))
	}
	shuffled := slices.Clone(recs)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	s.write(t, entry(1, shuffled...))
	e.wantMessages(t, "/heroku/a", "web.1", recs)
	if n := e.emu.Calls()["PutLogEvents"]; n < 4 {
		t.Errorf("%d puts for 75 hours of lines, want at least 4", n)
	}
}

// TestLongLineSplit: a 1.5 MB line becomes consecutive events that join back to it,
// cut on character boundaries; nothing is truncated.
func TestLongLineSplit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.sink(t, nil)
	t0 := recent()
	long := strings.Repeat("é", 750_000) + "end" // 1.5 MB, 2-byte characters
	recs := []drainpipe.Record{rec("a", t0, "before"), rec("a", t0.Add(time.Millisecond), long), rec("a", t0.Add(2*time.Millisecond), "after")}
	s.write(t, entry(1, recs...))
	got := e.messages("/heroku/a", day(t0))
	if len(got) != 4 || got[0] != "app[web.1]: before" || got[3] != "app[web.1]: after" {
		t.Fatalf("%d events", len(got))
	}
	var joined strings.Builder
	for _, m := range got[1:3] {
		body, ok := strings.CutPrefix(m, "app[web.1]: ")
		if !ok {
			t.Fatal("a part lost its prefix")
		}
		joined.WriteString(body)
	}
	if joined.String() != long {
		t.Error("parts do not join to the line")
	}
}

// TestRejected: lines too old, too new and past the group's retention are counted
// by reason, not stored, and do not stop the rest.
func TestRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var log syncBuffer
	s := e.sink(t, func(c *cloudwatch.Config) {
		c.StreamTemplate, c.RetentionDays = "{dyno}", 3
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	now := time.Now()
	ok := rec("a", now.Add(-time.Hour), "fine")
	s.write(t, entry(1, ok)) // creates the group; retention follows
	eventually(t, "retention applied", func() bool { return groupOf(e, "/heroku/a").RetentionDays == 3 })
	recs := []drainpipe.Record{
		rec("a", now.Add(-20*24*time.Hour), "too old"),
		rec("a", now.Add(-20*24*time.Hour+time.Second), "too old too"),
		rec("a", now.Add(-5*24*time.Hour), "expired"),
		rec("a", now.Add(-time.Minute), "fine too"),
		rec("a", now.Add(3*time.Hour), "too new"),
	}
	s.write(t, entry(2, recs...))
	e.wantMessages(t, "/heroku/a", "web.1", []drainpipe.Record{ok, recs[3]})
	for reason, want := range map[string]float64{"too_old": 2, "expired": 1, "too_new": 1, "invalid": 0} {
		if got := s.metric(t, "drainpipe_sink_rejected_lines_total", "sink", "cloudwatch", "reason", reason); got != want {
			t.Errorf("rejected %s = %v, want %v", reason, got, want)
		}
	}
	if l := log.String(); !strings.Contains(l, "too_old=2") || !strings.Contains(l, "drainpipe search") {
		t.Errorf("no summary of the rejected lines in the log:\n%s", l)
	}
}

// syncBuffer is a log destination safe for the sink's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func groupOf(e *env, name string) cwlemu.Group {
	for _, g := range e.emu.Groups() {
		if g.Name == name {
			return g
		}
	}
	return cwlemu.Group{}
}

// TestGroupDeletedMidRun: a group deleted under the sink is created again, with
// its settings, and the lines keep flowing.
func TestGroupDeletedMidRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.sink(t, func(c *cloudwatch.Config) { c.RetentionDays = 14 })
	t0 := recent()
	s.write(t, entry(1, lines("a", t0, 0, 10)...))
	e.emu.DeleteGroup("/heroku/a")
	recs := lines("a", t0, 10, 10)
	s.write(t, entry(2, recs...))
	e.wantMessages(t, "/heroku/a", day(t0), recs)
	eventually(t, "retention applied to the new group", func() bool { return groupOf(e, "/heroku/a").RetentionDays == 14 })
}

// TestGroupSettings: retention, tags, KMS key and class on a group the sink
// creates; retention enforced on a group that existed before the start.
func TestGroupSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.client(t).CreateLogGroup(context.Background(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/heroku/old")})
	if err != nil {
		t.Fatal(err)
	}
	s := e.sink(t, func(c *cloudwatch.Config) {
		c.RetentionDays = 30
		c.Tags = map[string]string{"team": "core", "env": "prod"}
		c.KMSKeyID = "arn:aws:kms:eu-west-1:123456789012:key/abc"
		c.LogClass = cloudwatch.ClassInfrequentAccess
	})
	t0 := recent()
	s.write(t, entry(1, slices.Concat(lines("new", t0, 0, 3), lines("old", t0, 0, 3))...))
	eventually(t, "retention on both groups", func() bool {
		return groupOf(e, "/heroku/new").RetentionDays == 30 && groupOf(e, "/heroku/old").RetentionDays == 30
	})
	g := groupOf(e, "/heroku/new")
	if g.Tags["team"] != "core" || g.Tags["env"] != "prod" || g.KMSKeyID != "arn:aws:kms:eu-west-1:123456789012:key/abc" || g.Class != "INFREQUENT_ACCESS" {
		t.Errorf("new group %+v", g)
	}
	if old := groupOf(e, "/heroku/old"); len(old.Tags) != 0 || old.Class != "STANDARD" {
		t.Errorf("existing group changed beyond its retention: %+v", old)
	}
	if n := e.emu.Calls()["PutRetentionPolicy"]; n != 2 {
		t.Errorf("%d PutRetentionPolicy calls, want one per group", n)
	}
}

// TestJSONFormat: one JSON object per line with the logfmt fields lifted out.
func TestJSONFormat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.sink(t, func(c *cloudwatch.Config) { c.Format = cloudwatch.FormatJSON })
	t0 := recent()
	r := rec("a", t0, "at=info status=200 path=/x")
	s.write(t, entry(1, r))
	got := e.messages("/heroku/a", day(t0))
	if len(got) != 1 || !strings.Contains(got[0], `"fields":{"at":"info","status":"200","path":"/x"}`) || !strings.Contains(got[0], `"app":"a"`) {
		t.Fatalf("events %q", got)
	}
	if ev := e.emu.Events("/heroku/a", day(t0)); ev[0].Timestamp != t0.UnixMilli() {
		t.Errorf("timestamp %d, want the line's own %d", ev[0].Timestamp, t0.UnixMilli())
	}
}

// TestIdleEviction: the state of groups nobody writes to is dropped.
func TestIdleEviction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.sink(t, func(c *cloudwatch.Config) { c.IdleTimeout = time.Nanosecond })
	t0 := recent()
	for _, app := range []string{"a", "b", "c"} {
		s.write(t, entry(1, lines(app, t0, 0, 1)...))
	}
	if st := s.Status(); len(st) != 1 || st["c"] != "ok" {
		t.Errorf("status after idling %v, want only the last app", st)
	}
}

// TestInvalidBatchSplit: a batch the service refuses as a whole is split until the
// events at fault are found; those are counted invalid, the group is not parked.
// An event refused as too large is split too, before it is given up.
func TestInvalidBatchSplit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		msg      string
		wantPuts func(n int) bool
	}{
		{"order", "Log events in a single PutLogEvents request must be in chronological order.", func(n int) bool { return n == 9 }},
		{"event too large", "Log event too large: 292824 bytes exceeds limit of 262144", func(n int) bool { return n > 9 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			s := e.sink(t, nil)
			t0 := recent()
			e.emu.FailGroup("/heroku/a", "InvalidParameterException", tt.msg)
			s.write(t, entry(1, lines("a", t0, 0, 5)...))
			if got := s.metric(t, "drainpipe_sink_rejected_lines_total", "sink", "cloudwatch", "reason", "invalid"); got != 5 {
				t.Errorf("invalid lines %v, want 5", got)
			}
			if n := e.emu.Calls()["PutLogEvents"]; !tt.wantPuts(n) {
				t.Errorf("%d puts to find 5 bad events", n)
			}
			if got := s.Status()["a"]; got != "ok" {
				t.Errorf("status %q", got)
			}
			e.emu.FailGroup("/heroku/a", "", "")
			recs := lines("a", t0, 5, 5)
			s.write(t, entry(2, recs...))
			e.wantMessages(t, "/heroku/a", day(t0), recs)
		})
	}
}

// TestOneGroupCreationPerProcess: the log sink and the EMF writer of one process
// both find a new app's group missing at once; the group is created with one
// CreateLogGroup call, never a second one answered ResourceAlreadyExists.
func TestOneGroupCreationPerProcess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.emu.SetFaults(cwlemu.Faults{Latency: 20 * time.Millisecond}) // a real service's round trip
	s := e.sink(t, nil)
	t0 := recent()
	const apps = 10
	var wg sync.WaitGroup
	for i := range apps {
		app := fmt.Sprintf("new%d", i)
		wg.Go(func() { s.write(t, entry(1, lines(app, t0, 0, 10)...)) })
		wg.Go(func() {
			doc := fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[]},"app":%q}`, t0.UnixMilli(), app)
			if err := s.PutEMF(context.Background(), app, [][]byte{[]byte(doc)}); err != nil {
				t.Errorf("PutEMF: %v", err)
			}
		})
	}
	wg.Wait()
	if n := e.emu.Calls()["CreateLogGroup"]; n != apps {
		t.Errorf("%d CreateLogGroup calls for %d new groups, want one each", n, apps)
	}
	for i := range apps {
		if got := e.messages(fmt.Sprintf("/heroku/new%d", i), cloudwatch.EMFStream); len(got) != 1 {
			t.Errorf("app new%d: %d EMF documents, want 1", i, len(got))
		}
	}
}

// TestNewGroupsCapped: a template with {dyno} names a group per dyno, and the
// sender chooses dyno names. One batch of 200 names creates the drain's budget of
// groups (NewGroupsPerMinute) and sends the rest of its lines to the drain's
// overflow group, counted and not lost; another drain's groups are not held up
// or charged, and groups that already exist cost nothing. (200 creations, at 10
// a second, held the partition for 20 s.)
func TestNewGroupsCapped(t *testing.T) {
	t.Parallel()
	for _, inline := range []bool{false, true} { // the server's sink, and Lambda's
		t.Run(fmt.Sprintf("inline=%v", inline), func(t *testing.T) {
			t.Parallel()
			testNewGroupsCapped(t, inline)
		})
	}
}

func testNewGroupsCapped(t *testing.T, inline bool) {
	e := newEnv(t)
	capped := func(c *cloudwatch.Config) {
		c.GroupTemplate = "/prod/{app}/{dyno}"
		c.NewGroupsPerMinute = 5
	}
	var s *testSink
	if inline {
		s = e.inlineSink(t, nil, capped)
	} else {
		s = e.sink(t, capped)
	}
	t0 := recent()
	noisy := lines("noisy", t0, 0, 200)
	for i := range noisy {
		noisy[i].Dyno = fmt.Sprintf("run.%d", i)
	}
	s.write(t, entry(1, noisy...))
	s.write(t, entry(2, lines("quiet", t0, 0, 3)...))
	e.wantMessages(t, "/prod/quiet/web.1", day(t0), lines("quiet", t0, 0, 3))

	var (
		own      []string
		overflow int
	)
	for _, grp := range e.emu.Groups() {
		switch g := grp.Name; {
		case g == "/prod/noisy/_other":
			overflow = len(e.messages(g, day(t0)))
		case strings.HasPrefix(g, "/prod/noisy/run."):
			own = append(own, g)
			if n := len(e.messages(g, day(t0))); n != 1 {
				t.Errorf("%s holds %d events, want 1", g, n)
			}
		}
	}
	slices.Sort(own)
	if len(own) != 5 || overflow != 195 {
		t.Fatalf("%d groups of their own and %d lines in the overflow group, want 5 and 195", len(own), overflow)
	}
	if got := e.emu.Calls()["CreateLogGroup"]; got != 7 {
		t.Errorf("%d CreateLogGroup calls, want 7 (5 dynos, the overflow group, quiet's)", got)
	}
	if got := s.metric(t, "drainpipe_cloudwatch_overflow_lines_total"); got != 195 {
		t.Errorf("overflow lines counted: %v, want 195", got)
	}

	// The budget is spent, yet lines of groups that exist still go to them.
	again := lines("noisy", t0, 200, 2)
	for i := range again {
		again[i].Dyno, again[i].Message = strings.TrimPrefix(own[i], "/prod/noisy/"), "again"
	}
	s.write(t, entry(3, again...))
	var got []string
	for _, g := range e.emu.Groups() {
		for _, m := range e.messages(g.Name, day(t0)) {
			if strings.Contains(m, "again") {
				got = append(got, g.Name)
			}
		}
	}
	slices.Sort(got)
	if want := own[:2]; !slices.Equal(got, want) {
		t.Errorf("lines of existing groups went to %v, want %v", got, want)
	}
}
