package alert_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/prometheus/client_golang/prometheus"
)

// TestCrashMidWindowResumes: the process dies in the middle of a window with the
// window's lines stored; the next process resumes at the first window not
// evaluated, misses none of the windows it was down for, fires once, and resolves.
func TestCrashMidWindowResumes(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		svc, _, crash := h.node()
		h.add(svc, alert.Rule{Name: "h12", App: "myapp", Query: "H12", Threshold: 10, Notify: []string{"test://ops"}})
		sleepUntil(t0.Add(2*time.Minute + 30*time.Second)) // windows 0 and 1 evaluated... and 2 half gone
		h.lines("myapp", "router", h12(1), t0.Add(2*time.Minute), 40*time.Second, 10)
		crash()
		if got := h.events(); len(got) != 0 {
			t.Fatalf("before the crash: %v", got)
		}
		sleepUntil(t0.Add(7 * time.Minute)) // down for 4.5 minutes

		svc, _, stop := h.node()
		defer stop()
		sleepUntil(t0.Add(8 * time.Minute))
		if got := h.events(); !slices.Equal(got, []string{"firing", "resolved"}) {
			t.Fatalf("after the restart: %v, want firing then resolved", got)
		}
		if w := h.rec.Sent()[0].WindowStart; !w.Equal(t0.Add(2 * time.Minute)) {
			t.Errorf("fired for the window at %v", w)
		}
		st, _ := svc.Get("h12")
		// Windows 0 to 6 ended by 7m and were evaluated, each once.
		if st.Evaluated != 7 || !st.LastWindow.End.Equal(t0.Add(7*time.Minute)) {
			t.Errorf("evaluated %d windows, last %v: want 7, ending at 7m", st.Evaluated, st.LastWindow)
		}
	})
}

// TestResolvedSentAfterRestart: a rule fires, the process dies, the lines stop; the
// next process sends the resolution of the incident the first one announced.
func TestResolvedSentAfterRestart(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		svc, _, crash := h.node()
		h.add(svc, alert.Rule{Name: "h12", App: "myapp", Query: "H12", Threshold: 10, Notify: []string{"test://ops"}})
		h.lines("myapp", "router", h12(1), t0, 3*time.Minute, 60)
		sleepUntil(t0.Add(time.Minute + 40*time.Second))
		crash()
		if got := h.events(); !slices.Equal(got, []string{"firing"}) {
			t.Fatalf("before the crash: %v", got)
		}
		sleepUntil(t0.Add(10 * time.Minute))
		_, _, stop := h.node()
		defer stop()
		sleepUntil(t0.Add(11 * time.Minute))
		if got := h.events(); !slices.Equal(got, []string{"firing", "resolved"}) {
			t.Fatalf("after the restart: %v, want the resolution", got)
		}
	})
}

// TestOutboxSurvivesRestart: a notification made but not delivered (its destination
// was down) is delivered by the next process, once.
func TestOutboxSurvivesRestart(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		h.rec.Fail("ops", false)
		svc, _, crash := h.node()
		h.add(svc, alert.Rule{Name: "h12", App: "myapp", Query: "H12", Threshold: 10, Notify: []string{"test://ops"}})
		h.lines("myapp", "router", h12(1), t0, time.Minute, 20)
		sleepUntil(t0.Add(time.Minute + 45*time.Second))
		crash()
		if h.rec.Tries("ops") == 0 || len(h.rec.Sent()) != 0 {
			t.Fatalf("before the crash: %d tries, %v sent", h.rec.Tries("ops"), h.events())
		}
		h.rec.Heal("ops")
		_, _, stop := h.node()
		defer stop()
		sleepUntil(t0.Add(5 * time.Minute))
		if got := h.events(); !slices.Equal(got, []string{"firing", "resolved"}) {
			t.Fatalf("after the restart: %v", got)
		}
	})
}

// TestFailedSaveEvaluatesTheWindowAgain: when the store cannot take a window's
// outcome, the window is evaluated again (nothing of it was kept) and its
// notification is made once.
func TestFailedSaveEvaluatesTheWindowAgain(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		svc, _, stop := h.node()
		defer stop()
		h.add(svc, alert.Rule{Name: "h12", App: "myapp", Query: "H12", Threshold: 10, Notify: []string{"test://ops"}})
		h.lines("myapp", "router", h12(1), t0, time.Minute, 20)
		sleepUntil(t0.Add(time.Minute + 20*time.Second))
		h.store.failPuts.Store(3)
		sleepUntil(t0.Add(3 * time.Minute))
		if got := h.events(); !slices.Equal(got, []string{"firing", "resolved"}) {
			t.Fatalf("events %v", got)
		}
		st, _ := svc.Get("h12")
		if st.Evaluated != 2 {
			t.Errorf("evaluated %d windows, want 2", st.Evaluated)
		}
		hist, _ := svc.History("h12", 0)
		if n := count(hist, "firing"); n != 1 {
			t.Errorf("%d firing events in the history", n)
		}
		if n := count(hist, "error"); n != 1 {
			t.Errorf("%d error events in the history, want the failed save once", n)
		}
	})
}

// TestRemoveResolves: removing a firing rule sends its resolution and deletes its
// state once delivered.
func TestRemoveResolves(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		svc, _, stop := h.node()
		defer stop()
		h.add(svc, alert.Rule{Name: "h12", App: "myapp", Query: "H12", Threshold: 10, Notify: []string{"test://ops"}})
		h.lines("myapp", "router", h12(1), t0, 5*time.Minute, 100)
		sleepUntil(t0.Add(2 * time.Minute))
		if err := svc.Remove(context.Background(), "h12"); err != nil {
			t.Fatal(err)
		}
		sleepUntil(t0.Add(3 * time.Minute))
		sent := h.rec.Sent()
		if got := h.events(); !slices.Equal(got, []string{"firing", "resolved"}) || sent[1].Reason != "rule removed" {
			t.Fatalf("events %v (%+v)", got, sent)
		}
		states, err := h.store.States(context.Background())
		if err != nil || len(states) != 0 {
			t.Errorf("states left: %d, %v", len(states), err)
		}
		if _, err := svc.Get("h12"); err == nil {
			t.Error("the rule is still listed")
		}
	})
}

// TestFileRules: rules of the alerts file cannot be changed through the API but can
// be muted; a file rule that is gone at the next start has its firing groups
// resolved; one whose query changed starts again after resolving its groups.
func TestFileRules(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		file := alert.Rule{Name: "crash", App: "myapp", Preset: "crashes", Notify: []string{"test://ops"}}
		svc, _, crash := h.node(file)
		if _, err := svc.Add(context.Background(), alert.Rule{Name: "crash", Query: "x", Notify: []string{"test://ops"}}); !errors.Is(err, alert.ErrReadOnly) {
			t.Errorf("add over a file rule: %v", err)
		}
		if err := svc.Remove(context.Background(), "crash"); !errors.Is(err, alert.ErrReadOnly) {
			t.Errorf("remove a file rule: %v", err)
		}
		if err := svc.Mute(context.Background(), "crash", t0.Add(time.Second)); err != nil {
			t.Errorf("mute a file rule: %v", err)
		}
		h.lines("myapp", "web.1", "State changed from up to crashed", t0.Add(10*time.Second), time.Minute, 3)
		sleepUntil(t0.Add(2 * time.Minute))
		crash()
		if got := h.events(); !slices.Equal(got, []string{"firing dyno=web.1"}) {
			t.Fatalf("events %v", got)
		}
		changed := file
		changed.Preset, changed.Query, changed.GroupBy = "", "crashed", []string{"dyno"}
		_, _, crash = h.node(changed)
		sleepUntil(t0.Add(3 * time.Minute))
		crash()
		sent := h.rec.Sent()
		if len(sent) != 2 || sent[1].Event != alert.EventResolved || sent[1].Reason != "rule changed" {
			t.Fatalf("after changing the query: %v", h.events())
		}
		h.lines("myapp", "web.2", "State changed from up to crashed", t0.Add(3*time.Minute), time.Minute, 1)
		_, _, crash = h.node(changed)
		sleepUntil(t0.Add(5 * time.Minute))
		crash()
		_, _, stop := h.node() // the file no longer has the rule
		defer stop()
		sleepUntil(t0.Add(6 * time.Minute))
		want := []string{"firing dyno=web.1", "resolved dyno=web.1", "firing dyno=web.2", "resolved dyno=web.2"}
		if got := h.events(); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		if r := h.rec.Sent()[3].Reason; r != "rule removed" {
			t.Errorf("last resolution: %q", r)
		}
	})
}

// TestCreateIsAddOnly: Create refuses a name any node has, even one this node has
// not heard of yet, and a name of the alerts file; a removed name can be created.
func TestCreateIsAddOnly(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	file := alert.Rule{Name: "crash", App: "myapp", Preset: "crashes", Notify: []string{"test://ops"}}
	a, _, stopA := h.node(file)
	defer stopA()
	b, _, stopB := h.node(file) // follows nothing: it knows only what it loaded
	defer stopB()
	rule := alert.Rule{Name: "h12", App: "myapp", Query: "H12", Notify: []string{"test://ops"}}
	if err := a.Create(ctx, rule); err != nil {
		t.Fatal(err)
	}
	other := rule
	other.Query = "H13"
	for _, tc := range []struct {
		name string
		node *alert.Service
		rule alert.Rule
		want error
	}{
		{"the same node", a, other, alert.ErrExists},
		{"a node that has not heard of it", b, other, alert.ErrExists},
		{"a rule of the alerts file", a, file, alert.ErrReadOnly},
	} {
		if err := tc.node.Create(ctx, tc.rule); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if st, _ := a.Get("h12"); st.Rule.Query != "H12" {
		t.Errorf("the rule was replaced: %+v", st.Rule)
	}
	if err := a.Remove(ctx, "h12"); err != nil {
		t.Fatal(err)
	}
	if err := a.Create(ctx, other); err != nil {
		t.Errorf("create a removed name: %v", err)
	}
}

// TestFileMistakesAllReported: a start with an alerts file whose rules name
// destinations that cannot be opened is refused with every such rule, not the first.
func TestFileMistakesAllReported(t *testing.T) {
	h := newHarness(t)
	cfg := h.cfg
	cfg.FileRules = []alert.Rule{
		{Name: "a", App: "myapp", Query: "H12", Notify: []string{"nope://a"}, Line: 2},
		{Name: "b", App: "myapp", Query: "H13", Notify: []string{"test://ops"}, Line: 7},
		{Name: "c", App: "myapp", Query: "H14", Notify: []string{"test://ops", "test://"}, Line: 12},
	}
	cfg.Registerer = prometheus.NewRegistry()
	_, err := alert.New(context.Background(), cfg)
	if err == nil {
		t.Fatal("a start with two broken rules was taken")
	}
	for _, want := range []string{`line 2: rule "a": `, `notify #1: want test://NAME`, `line 12: rule "c": `, `notify #2: want test://NAME`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), `rule "b"`) {
		t.Errorf("error names the good rule:\n%v", err)
	}
}

// TestBacklogIsBounded: after the archive was unreadable for three hours, a rule
// catches up over the last MaxBacklog only, and its history says what it skipped.
func TestBacklogIsBounded(t *testing.T) {
	h := newHarness(t)
	h.cfg.MaxBacklog = time.Hour
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		svc, _, stop := h.node()
		defer stop()
		h.add(svc, alert.Rule{Name: "h12", App: "myapp", Query: "H12", Notify: []string{"test://ops"}})
		sleepUntil(t0.Add(5 * time.Minute))
		h.arc.SetMark(func() time.Time { return t0.Add(5 * time.Minute) }) // applies nothing more
		sleepUntil(t0.Add(3 * time.Hour))
		h.arc.SetMark(nil)
		sleepUntil(t0.Add(3*time.Hour + 10*time.Second))
		hist, _ := svc.History("h12", 0)
		if count(hist, "skipped") != 1 {
			t.Fatalf("history: %+v", hist)
		}
		st, _ := svc.Get("h12")
		if !st.LastWindow.End.Equal(t0.Add(3*time.Hour - time.Minute)) {
			t.Errorf("caught up to %v", st.LastWindow)
		}
		if st.Evaluated != 4+59 {
			t.Errorf("evaluated %d windows, want the 4 before and the 59 ready of the last hour", st.Evaluated)
		}
	})
}

func count(events []alert.Event, typ string) int {
	n := 0
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// TestLostKeyKeepsTheRuleVisible: a node whose alerts.key is not the one the rules
// were sealed with still lists and evaluates them, says why their deliveries fail,
// and lets them be removed or added again.
func TestLostKeyKeepsTheRuleVisible(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		svc, _, stop := h.node()
		h.add(svc, alert.Rule{Name: "h12", App: "myapp", Query: "H12", Notify: []string{"test://ops"}})
		stop()
		other, err := alert.NewSealer(make([]byte, alert.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		h.cfg.Sealer = other
		svc, _, stop = h.node()
		defer stop()
		h.lines("myapp", "router", h12(1), t0.Add(time.Minute), time.Minute, 3)
		sleepUntil(t0.Add(3 * time.Minute))
		st, err := svc.Get("h12")
		if err != nil {
			t.Fatalf("the rule is gone: %v", err)
		}
		if !strings.Contains(st.LastError, "alerts.key") || st.Rule.Notify[0] != "test://ops" || st.Evaluated < 2 {
			t.Errorf("status %+v", st)
		}
		if len(h.rec.Sent()) != 0 || st.LastDelivery == nil || st.LastDelivery.OK {
			t.Errorf("deliveries: sent %v, last %+v", h.events(), st.LastDelivery)
		}
		h.add(svc, alert.Rule{Name: "h12", App: "myapp", Query: "H12", Notify: []string{"test://ops"}})
		if st, _ := svc.Get("h12"); st.LastError != "" {
			t.Errorf("added again, still %q", st.LastError)
		}
	})
}

// TestResolutionGoesWhereTheFiringWent: when a firing rule's destinations change
// (replaced, its query changed, then removed, across a restart), the resolution
// of each incident goes to the destinations its firing and renotify went to, and
// to no other; firings after the change go to the new destinations.
func TestResolutionGoesWhereTheFiringWent(t *testing.T) {
	old := alert.Rule{Name: "cx", App: "myapp", Query: "H12", Notify: []string{"test://old"}}
	moved := old
	moved.Notify = []string{"test://new"}
	requeried := moved
	requeried.Query = "H13" // another identity, and no line of it
	renotified := old
	renotified.Renotify = time.Minute
	movedRenotified := renotified
	movedRenotified.Notify = []string{"test://new"}
	both := old
	both.Notify = []string{"test://old", "test://new"}
	for _, tc := range []struct {
		name        string
		first, then alert.Rule
		remove      bool // the rule is removed after the change
		restart     bool // the process dies after the change
		breach      time.Duration
		want        map[string][]string
	}{
		{name: "replaced", first: old, then: moved, breach: 2 * time.Minute,
			want: map[string][]string{"old": {"firing", "resolved: recovered"}}},
		{name: "replaced, then restarted", first: old, then: moved, restart: true, breach: 2 * time.Minute,
			want: map[string][]string{"old": {"firing", "resolved: recovered"}}},
		{name: "query changed", first: old, then: requeried, breach: 2 * time.Minute,
			want: map[string][]string{"old": {"firing", "resolved: rule changed"}}},
		{name: "replaced, then removed", first: old, then: moved, remove: true, breach: 2 * time.Minute,
			want: map[string][]string{"old": {"firing", "resolved: rule removed"}}},
		{name: "renotified after the change", first: renotified, then: movedRenotified, breach: 3 * time.Minute,
			want: map[string][]string{"old": {"firing", "resolved: recovered"}, "new": {"renotify", "renotify", "resolved: recovered"}}},
		{name: "a destination added", first: old, then: both, breach: 2 * time.Minute,
			want: map[string][]string{"old": {"firing", "resolved: recovered"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			synctest.Test(t, func(t *testing.T) {
				t0 := time.Now()
				svc, _, stop := h.node()
				h.add(svc, tc.first)
				h.lines("myapp", "router", h12(1), t0, tc.breach, 40)
				sleepUntil(t0.Add(time.Minute + 45*time.Second)) // the first window fired
				h.add(svc, tc.then)
				if tc.remove {
					if err := svc.Remove(context.Background(), tc.then.Name); err != nil {
						t.Fatal(err)
					}
				}
				if tc.restart {
					stop()
					_, _, stop = h.node()
				}
				defer func() { stop() }()
				sleepUntil(t0.Add(tc.breach + 3*time.Minute))
				got := map[string][]string{}
				for _, s := range h.rec.Sent() {
					ev := s.Event
					if s.Reason != "" {
						ev += ": " + s.Reason
					}
					got[s.Destination] = append(got[s.Destination], ev)
				}
				if !maps.EqualFunc(got, tc.want, slices.Equal) {
					t.Errorf("sent %v, want %v", got, tc.want)
				}
			})
		})
	}
}

// TestResolutionOfAnIncidentStoredBeforeDestinationIDs: an incident announced by
// a version that did not remember destinations per incident (its stored state and
// rule have no destination ids) is still resolved where it fired when the rule's
// destinations change after the upgrade.
func TestResolutionOfAnIncidentStoredBeforeDestinationIDs(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		r := alert.Rule{Name: "cx", App: "myapp", Query: "H12", Notify: []string{"test://old"}}
		svc, _, crash := h.node()
		h.add(svc, r)
		h.lines("myapp", "router", h12(1), t0, 2*time.Minute, 40)
		sleepUntil(t0.Add(time.Minute + 45*time.Second))
		crash()
		ctx := context.Background()
		rules, err := h.store.Rules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.store.PutRule(ctx, "cx", withoutIDs(t, rules["cx"])); err != nil {
			t.Fatal(err)
		}
		states, err := h.store.States(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.store.PutState(ctx, "cx", withoutIDs(t, states["cx"].Data), states["cx"].Rev); err != nil {
			t.Fatal(err)
		}
		svc, _, stop := h.node()
		defer stop()
		r.Notify = []string{"test://new"}
		h.add(svc, r)
		sleepUntil(t0.Add(5 * time.Minute))
		var got []string
		for _, s := range h.rec.Sent() {
			got = append(got, s.Destination+" "+s.Event)
		}
		if want := []string{"old firing", "old resolved"}; !slices.Equal(got, want) {
			t.Errorf("sent %v, want %v", got, want)
		}
	})
}

// withoutIDs removes what a stored rule or state of the version before
// destination ids did not have: each destination's id, each group's.
func withoutIDs(t *testing.T, data []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["sealed"]; ok {
				delete(v, "id")
			}
			if _, ok := v["announced"]; ok {
				delete(v, "to")
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
