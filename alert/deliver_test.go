package alert_test

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drainpipe/drainpipe/alert"
)

// TestFailingDestinationIsRetried: a destination that answers 503 is retried with
// growing delays; the failure shows in the status and the metrics; another
// destination of the same rule is not held back; once it heals, the notification
// arrives once.
func TestFailingDestinationIsRetried(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		h.rec.Fail("pager", false)
		svc, reg, stop := h.node()
		defer stop()
		h.add(svc, alert.Rule{Name: "h12", App: "myapp", Query: "H12", Notify: []string{"test://pager", "test://chat"}})
		h.lines("myapp", "router", h12(1), t0, time.Minute, 3)
		sleepUntil(t0.Add(time.Minute + 35*time.Second))
		if got := h.events(); !slices.Equal(got, []string{"firing"}) || h.rec.Sent()[0].Destination != "chat" {
			t.Fatalf("the healthy destination: %v", h.rec.Sent())
		}
		sleepUntil(t0.Add(20 * time.Minute))
		tries := h.rec.Tries("pager")
		// Delays double from 1 s to 5 min: about 10 tries in 18.5 minutes, not 1,100.
		if tries < 6 || tries > 16 {
			t.Errorf("%d tries in 18.5 minutes", tries)
		}
		st, _ := svc.Get("h12")
		if st.LastDelivery == nil || st.LastDelivery.OK || !strings.Contains(st.LastDelivery.Error, "503") ||
			len(st.Outbox) != 2 || st.Outbox[0].Destination != "test://pager" || st.Failed != int64(tries) {
			t.Errorf("status: last %+v, outbox %+v, failed %d", st.LastDelivery, st.Outbox, st.Failed)
		}
		if v := gauge(t, reg, "drainpipe_alerts_deliveries_total", "h12", "result", "error", "destination", "other"); v != float64(tries) {
			t.Errorf("deliveries_total{result=error} = %v, want %d", v, tries)
		}
		if v := gauge(t, reg, "drainpipe_alerts_outbox", "h12"); v != 2 {
			t.Errorf("outbox gauge %v", v)
		}
		h.rec.Heal("pager")
		sleepUntil(t0.Add(26 * time.Minute))
		var pager []string
		for _, s := range h.rec.Sent() {
			if s.Destination == "pager" {
				pager = append(pager, s.Event)
			}
		}
		if !slices.Equal(pager, []string{"firing", "resolved"}) {
			t.Errorf("pager got %v, want its firing then resolution, once each", pager)
		}
	})
}

// TestRejectedDeliveryIsGivenUp: a destination that refuses a notification for good
// (a 4xx) is tried three times, then the notification is given up, and that shows.
func TestRejectedDeliveryIsGivenUp(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		h.rec.Fail("gone", true)
		svc, reg, stop := h.node()
		defer stop()
		h.add(svc, alert.Rule{Name: "h12", App: "myapp", Query: "H12", Notify: []string{"test://gone"}})
		h.lines("myapp", "router", h12(1), t0, time.Minute, 3)
		sleepUntil(t0.Add(30 * time.Minute))
		if n := h.rec.Tries("gone"); n != 6 {
			t.Errorf("%d tries, want 3 for the firing and 3 for the resolution", n)
		}
		st, _ := svc.Get("h12")
		hist, _ := svc.History("h12", 0)
		if st.Dropped != 2 || len(st.Outbox) != 0 || count(hist, "gave_up") != 2 {
			t.Errorf("dropped %d, outbox %d, gave_up events %d", st.Dropped, len(st.Outbox), count(hist, "gave_up"))
		}
		if v := gauge(t, reg, "drainpipe_alerts_deliveries_total", "h12", "result", "gave_up"); v != 2 {
			t.Errorf("gave_up metric %v", v)
		}
	})
}

// TestOutboxIsCapped: with a destination down, notifications pile up to MaxOutbox;
// the oldest firing ones make room, and are counted.
func TestOutboxIsCapped(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		h.rec.Fail("down", false)
		svc, _, stop := h.node()
		defer stop()
		h.add(svc, alert.Rule{Name: "crash", App: "myapp", Preset: "crashes", Notify: []string{"test://down"}})
		for d := range 80 { // 80 firing, then 80 resolved
			h.lines("myapp", "web."+itoa(d), "State changed from up to crashed", t0, time.Minute, 1)
		}
		sleepUntil(t0.Add(3 * time.Minute))
		st, _ := svc.Get("crash")
		if len(st.Outbox) != alert.MaxOutbox || st.Dropped != 60 {
			t.Fatalf("outbox %d, dropped %d: want %d and 60", len(st.Outbox), st.Dropped, alert.MaxOutbox)
		}
		resolved := 0
		for _, p := range st.Outbox {
			if p.Event == alert.EventResolved {
				resolved++
			}
		}
		if resolved != 80 {
			t.Errorf("%d resolutions kept, want all 80", resolved)
		}
	})
}
