package alert_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/alert/alerttest"
)

// TestMatchFiresOnceAndResolves: 10 H12 lines in one window fire the rule once,
// when the window's end plus the grace has passed, with samples and a link to the
// search; the next window without them resolves it.
func TestMatchFiresOnceAndResolves(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		svc, _, stop := h.node()
		defer stop()
		t0 := time.Now() // 2000-01-01T00:00:00Z in the bubble: a window start
		h.add(svc, alert.Rule{Name: "h12", App: "myapp", Query: "code=H12", Threshold: 10, Notify: []string{"test://ops"}})
		for i := range 10 {
			at := t0.Add(time.Duration(10+i) * time.Second)
			h.arc.Add(alert.Line{Time: at, App: "myapp", Source: "heroku", Dyno: "router", Message: h12(i)})
		}
		h.lines("other", "router", h12(0), t0, time.Minute, 30) // another app's lines do not count

		sleepUntil(t0.Add(time.Minute + alert.DefaultGrace - time.Second))
		if got := h.events(); len(got) != 0 {
			t.Fatalf("notified before the window's end plus the grace: %v", got)
		}
		sleepUntil(t0.Add(time.Minute + alert.DefaultGrace + 3*time.Second))
		sent := h.rec.Sent()
		if len(sent) != 1 || sent[0].Event != alert.EventFiring {
			t.Fatalf("after the window: %v, want one firing", h.events())
		}
		n := sent[0].Notification
		if n.Value != 10 || len(n.Samples) != alert.MaxSamples || n.Samples[0].Message != h12(9) {
			t.Errorf("firing: value %v, %d samples, first %q", n.Value, len(n.Samples), n.Samples[0].Message)
		}
		wantURL := "https://logs.example.com/ui/search?app=myapp&from=2000-01-01T00%3A00%3A00Z&q=code%3DH12&to=2000-01-01T00%3A01%3A00Z"
		if n.SearchURL != wantURL || n.DedupeKey != "drainpipe/h12" {
			t.Errorf("search URL %s, dedupe key %s", n.SearchURL, n.DedupeKey)
		}
		sleepUntil(t0.Add(2*time.Minute + alert.DefaultGrace + 3*time.Second))
		if got := h.events(); !slices.Equal(got, []string{"firing", "resolved"}) {
			t.Fatalf("events %v, want firing then resolved", got)
		}
		res := h.rec.Sent()[1].Notification
		if res.DedupeKey != n.DedupeKey || res.ID == n.ID || res.Reason != "recovered" || !strings.HasPrefix(res.Title, "[RESOLVED] h12") {
			t.Errorf("resolved: %+v", res)
		}
		sleepUntil(t0.Add(10 * time.Minute))
		if got := h.events(); len(got) != 2 {
			t.Errorf("later windows notified again: %v", got)
		}
		st, err := svc.Get("h12")
		if err != nil {
			t.Fatal(err)
		}
		if st.Evaluated < 9 || len(st.Groups) != 1 || st.Groups[0].State != alert.StateResolved || st.Delivered != 2 {
			t.Errorf("status: evaluated %d, groups %+v, delivered %d", st.Evaluated, st.Groups, st.Delivered)
		}
	})
}

// TestArchiveLagGivesNoFalseAbsence: while the archive has applied lines only up to
// two minutes ago, the heartbeat's windows wait; nothing fires. When the heartbeat
// really stops, the absence fires once the archive has caught up past the window
// plus the grace, and resolves when the heartbeat returns.
func TestArchiveLagGivesNoFalseAbsence(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		h.arc.SetMark(func() time.Time { return time.Now().Add(-2 * time.Minute) })
		svc, _, stop := h.node()
		defer stop()
		t0 := time.Now()
		h.add(svc, alert.Rule{Name: "cron", App: "myapp", Kind: alert.Absence, Query: "heartbeat", Notify: []string{"test://ops"}})
		h.lines("myapp", "worker.1", "heartbeat ok", t0, 10*time.Minute, 60) // every 10 s

		sleepUntil(t0.Add(10 * time.Minute))
		if got := h.events(); len(got) != 0 {
			t.Fatalf("absence fired while the archive lagged: %v", got)
		}
		st, _ := svc.Get("cron")
		if !strings.Contains(st.Waiting, "waiting for the archive") || st.LastWindow.End.After(t0.Add(8*time.Minute)) {
			t.Errorf("status while lagging: waiting %q, last window %v", st.Waiting, st.LastWindow)
		}
		// The heartbeat stopped at t0+10m; the archive catches up.
		h.arc.SetMark(nil)
		sleepUntil(t0.Add(11*time.Minute + alert.DefaultGrace - time.Second))
		if got := h.events(); len(got) != 0 {
			t.Fatalf("fired before the first empty window was complete: %v", got)
		}
		sleepUntil(t0.Add(11*time.Minute + alert.DefaultGrace + 3*time.Second))
		if got := h.events(); !slices.Equal(got, []string{"firing"}) {
			t.Fatalf("events %v, want one firing", got)
		}
		if n := h.rec.Sent()[0]; n.WindowStart != t0.Add(10*time.Minute) || !strings.Contains(n.Summary, "no line matching heartbeat") {
			t.Errorf("firing: window %v, summary %q", n.WindowStart, n.Summary)
		}
		sleepUntil(t0.Add(15 * time.Minute))
		h.lines("myapp", "worker.1", "heartbeat ok", t0.Add(15*time.Minute), time.Minute, 6)
		sleepUntil(t0.Add(16*time.Minute + alert.DefaultGrace + 3*time.Second))
		if got := h.events(); !slices.Equal(got, []string{"firing", "resolved"}) {
			t.Fatalf("events %v, want firing then resolved", got)
		}
	})
}

// TestFlappingGivesNoStorm: counts crossing the threshold window after window give
// one firing and one resolution with a recovery threshold, and none with `for`.
func TestFlappingGivesNoStorm(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rule   alert.Rule
		counts []int
		want   []string
	}{
		{"hysteresis", alert.Rule{Threshold: 10, Recover: ptr(3.0)}, []int{12, 4, 12, 4, 12, 4, 12, 0, 0}, []string{"firing", "resolved"}},
		{"for 2", alert.Rule{Threshold: 10, For: 2}, []int{12, 0, 12, 1, 12, 2, 12, 0}, nil},
		{"for 2 then steady", alert.Rule{Threshold: 10, For: 2}, []int{12, 0, 12, 12, 12, 0}, []string{"firing", "resolved"}},
		{"without either, every crossing", alert.Rule{Threshold: 10}, []int{12, 4, 12, 4}, []string{"firing", "resolved", "firing", "resolved"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			synctest.Test(t, func(t *testing.T) {
				svc, _, stop := h.node()
				defer stop()
				t0 := time.Now()
				r := tc.rule
				r.Name, r.App, r.Query, r.Notify = "flap", "myapp", "H12", []string{"test://ops"}
				h.add(svc, r)
				for i, n := range tc.counts {
					h.lines("myapp", "router", h12(i), t0.Add(time.Duration(i)*time.Minute), time.Minute, n)
				}
				sleepUntil(t0.Add(time.Duration(len(tc.counts)+1) * time.Minute))
				if got := h.events(); !slices.Equal(got, tc.want) {
					t.Errorf("events %v, want %v", got, tc.want)
				}
			})
		})
	}
}

// TestRenotifyWhileFiring: a group that keeps firing is notified again every
// renotify interval, and resolved once.
func TestRenotifyWhileFiring(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		svc, _, stop := h.node()
		defer stop()
		t0 := time.Now()
		h.add(svc, alert.Rule{Name: "r14", App: "myapp", Query: "R14", Renotify: time.Hour, Notify: []string{"test://ops"}})
		h.lines("myapp", "web.1", "Error R14 (Memory quota exceeded)", t0, 150*time.Minute, 300)
		sleepUntil(t0.Add(155 * time.Minute))
		want := []string{"firing", "renotify", "renotify", "resolved"}
		if got := h.events(); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		sent := h.rec.Sent()
		if gap := sent[1].Time.Sub(sent[0].Time); gap != time.Hour {
			t.Errorf("renotified after %s, want 1h", gap)
		}
		if sent[1].ID == sent[2].ID || sent[1].DedupeKey != sent[0].DedupeKey {
			t.Errorf("renotify ids %s %s, dedupe keys %s %s", sent[1].ID, sent[2].ID, sent[0].DedupeKey, sent[1].DedupeKey)
		}
	})
}

// TestMute: a mute holds firing notifications back (the states still change), the
// group is announced when the mute ends if it still fires, and the resolution of an
// announced incident is sent even during a mute.
func TestMute(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		svc, _, stop := h.node()
		defer stop()
		t0 := time.Now()
		h.add(svc, alert.Rule{Name: "r14", App: "myapp", Query: "R14", Notify: []string{"test://ops"}})
		if err := svc.Mute(t.Context(), "r14", t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		h.lines("myapp", "web.1", "Error R14 (Memory quota exceeded)", t0, 3*time.Hour, 360)
		sleepUntil(t0.Add(2*time.Hour - time.Second))
		st, _ := svc.Get("r14")
		if got := h.events(); len(got) != 0 || !st.Muted || st.Groups[0].State != alert.StateFiring {
			t.Fatalf("while muted: sent %v, muted %v, groups %+v", got, st.Muted, st.Groups)
		}
		sleepUntil(t0.Add(2*time.Hour + 2*time.Minute))
		if got := h.events(); !slices.Equal(got, []string{"firing"}) {
			t.Fatalf("after the mute: %v, want the firing", got)
		}
		if err := svc.Mute(t.Context(), "r14", t0.Add(10*time.Hour)); err != nil {
			t.Fatal(err)
		}
		sleepUntil(t0.Add(3*time.Hour + 2*time.Minute))
		if got := h.events(); !slices.Equal(got, []string{"firing", "resolved"}) {
			t.Fatalf("resolution during a mute: %v", got)
		}
		hist, _ := svc.History("r14", 0)
		var types []string
		for _, e := range hist {
			types = append(types, e.Type)
		}
		if !slices.Contains(types, "muted") || !slices.Contains(types, "mute") {
			t.Errorf("history %v lacks the mute and the held-back firing", types)
		}
	})
}

// TestDailyMute: a daily range mutes every day, in its time zone.
func TestDailyMute(t *testing.T) {
	r, err := alert.ParseDailyRange("22:00-06:00")
	if err != nil {
		t.Fatal(err)
	}
	m := alert.Mute{Daily: []alert.DailyRange{r}, Location: "Europe/Paris"}
	for _, tc := range []struct {
		at   string
		want bool
	}{
		{"2026-06-01T20:30:00Z", true}, // 22:30 in Paris (summer)
		{"2026-06-01T19:59:00Z", false},
		{"2026-06-02T03:59:00Z", true}, // 05:59
		{"2026-06-02T04:00:00Z", false},
		{"2026-01-15T21:00:00Z", true}, // 22:00 in winter
	} {
		at, _ := time.Parse(time.RFC3339, tc.at)
		if got := m.MutedAt(at); got != tc.want {
			t.Errorf("%s: muted %v, want %v", tc.at, got, tc.want)
		}
	}
}

// TestGroupsAreCapped: 150 dynos breaching at once: 100 groups fire, the other 50
// are counted in the status and the metrics, not lost silently.
func TestGroupsAreCapped(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		svc, reg, stop := h.node()
		defer stop()
		t0 := time.Now()
		h.add(svc, alert.Rule{Name: "crash", App: "myapp", Preset: "crashes", Notify: []string{"test://ops"}})
		for d := range 150 {
			h.lines("myapp", "web."+itoa(d), "State changed from up to crashed", t0.Add(time.Duration(d)*time.Second/10), time.Second, 1+d%3)
		}
		sleepUntil(t0.Add(time.Minute + alert.DefaultGrace + 5*time.Second))
		st, _ := svc.Get("crash")
		if len(st.Groups) != alert.MaxGroups || st.Excess != 50 {
			t.Fatalf("%d groups, excess %d; want %d and 50", len(st.Groups), st.Excess, alert.MaxGroups)
		}
		if got := len(h.rec.Sent()); got != alert.MaxGroups {
			t.Errorf("%d notifications, want one per tracked group", got)
		}
		if v := gauge(t, reg, "drainpipe_alerts_groups_over_cap", "crash"); v != 50 {
			t.Errorf("over cap gauge %v", v)
		}
		if g := st.Groups[0]; g.Label == "" || !strings.HasPrefix(g.Label, "dyno=web.") {
			t.Errorf("group label %q", g.Label)
		}
	})
}

// TestSearchURLOfAGroup: a group's link searches its lines: dyno and source as the
// search's own filters, other fields as LogsQL filters in the query.
func TestSearchURLOfAGroup(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		svc, _, stop := h.node()
		defer stop()
		h.add(svc, alert.Rule{Name: "h12", App: "myapp", Query: "H12", GroupBy: []string{"dyno", "code"}, Notify: []string{"test://ops"}})
		h.lines("myapp", "router", h12(1), t0, time.Minute, 3)
		sleepUntil(t0.Add(time.Minute + alert.DefaultGrace + 3*time.Second))
		sent := h.rec.Sent()
		if len(sent) != 1 {
			t.Fatalf("sent %v", h.events())
		}
		want := "https://logs.example.com/ui/search?app=myapp&dyno=router&from=2000-01-01T00%3A00%3A00Z&q=H12+code%3A%3D%22H12%22&to=2000-01-01T00%3A01%3A00Z"
		if got := sent[0].SearchURL; got != want {
			t.Errorf("search URL\n got %s\nwant %s", got, want)
		}
		if sent[0].GroupLabel != "dyno=router,code=H12" || sent[0].DedupeKey != "drainpipe/h12/dyno=router,code=H12" {
			t.Errorf("label %q, dedupe key %q", sent[0].GroupLabel, sent[0].DedupeKey)
		}
	})
}

// everyLine is the archive with every rule's query selecting every line of the
// app: the search link is made from the query as written, whatever it selects, so
// queries the fake cannot read can be tested too.
type everyLine struct{ *alerttest.Archive }

func (e everyLine) Count(ctx context.Context, s alert.Search, groupBy []string, limit int) ([]alert.GroupCount, int, error) {
	s.Query = ""
	return e.Archive.Count(ctx, s, groupBy, limit)
}

func (e everyLine) Sample(ctx context.Context, s alert.Search, n int) ([]alert.Line, error) {
	s.Query = ""
	return e.Archive.Sample(ctx, s, n)
}

// TestSearchURLKeepsToTheGroup: a group's link searches that group's lines only:
// a query with an OR outside parentheses is put in parentheses before the group's
// filter (AND binds tighter than OR in LogsQL); other queries are left as written.
func TestSearchURLKeepsToTheGroup(t *testing.T) {
	for _, tc := range []struct{ query, want string }{
		{`H12 OR H13`, `(H12 OR H13) code:="H13"`},
		{`H12 or H13`, `(H12 or H13) code:="H13"`},
		{`status:range[500, 600) OR H13`, `(status:range[500, 600) OR H13) code:="H13"`},
		{`-H12 OR (H13 desc="x")`, `(-H12 OR (H13 desc="x")) code:="H13"`},
		{`msg="a (" OR H13`, `(msg="a (" OR H13) code:="H13"`},
		{`don't or won't`, `(don't or won't) code:="H13"`},
		{`code=H1*`, `code=H1* code:="H13"`},
		{`(H12 OR H13) router`, `(H12 OR H13) router code:="H13"`},
		{`"H12 OR H13" timeout`, `"H12 OR H13" timeout code:="H13"`},
		{`desc='a OR b' code:in(H12, H13)`, `desc='a OR b' code:in(H12, H13) code:="H13"`},
		{`oracle ORDER`, `oracle ORDER code:="H13"`},
	} {
		t.Run(tc.query, func(t *testing.T) {
			h := newHarness(t)
			h.cfg.Searcher = everyLine{h.arc}
			synctest.Test(t, func(t *testing.T) {
				t0 := time.Now()
				svc, _, stop := h.node()
				defer stop()
				h.add(svc, alert.Rule{Name: "codes", App: "myapp", Query: tc.query, GroupBy: []string{"code"}, Notify: []string{"test://ops"}})
				h.lines("myapp", "router", `at=error code=H13 desc="Connection closed without response"`, t0, time.Minute, 1)
				sleepUntil(t0.Add(time.Minute + alert.DefaultGrace + 3*time.Second))
				sent := h.rec.Sent()
				if len(sent) != 1 {
					t.Fatalf("sent %v", h.events())
				}
				u, err := url.Parse(sent[0].SearchURL)
				if err != nil {
					t.Fatal(err)
				}
				if got := u.Query().Get("q"); got != tc.want {
					t.Errorf("q = %s, want %s", got, tc.want)
				}
			})
		})
	}
}
