package main_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/drainpipe/drainpipe"
)

// tailStats are the live tail page's counters (its root element's stats).
type tailStats struct {
	Received   int     `json:"received"`
	Drawn      int     `json:"drawn"`
	Frames     int     `json:"frames"`
	MaxFrameMs float64 `json:"maxFrameMs"`
	// FrameMs are the times of the frames that drew rows.
	FrameMs []float64 `json:"frameMs"`
}

// quantile is the q-quantile of the frames' times, in ms.
func (s tailStats) quantile(q float64) float64 {
	if len(s.FrameMs) == 0 {
		return 0
	}
	v := slices.Clone(s.FrameMs)
	slices.Sort(v)
	return v[min(len(v)-1, int(q*float64(len(v))))]
}

// flood sends lines/s lines to the drain for d, in tenths of a second.
func flood(t *testing.T, drainURL string, perSecond int, d time.Duration, tag string) int {
	t.Helper()
	sent := 0
	start := time.Now()
	for tick := 0; time.Duration(tick)*100*time.Millisecond < d; tick++ {
		var recs []drainpipe.Record
		for i := 0; i < perSecond/10; i++ {
			recs = append(recs, rec(time.Now(), "app", fmt.Sprintf("web.%d", 1+i%4), 190,
				fmt.Sprintf("%s line %d at=info method=GET path=/api/v1/orders status=200 service=%dms", tag, sent, i%300)))
			sent++
		}
		sendRecords(t, drainURL, recs)
		if wait := time.Until(start.Add(time.Duration(tick+1) * 100 * time.Millisecond)); wait > 0 {
			time.Sleep(wait)
		}
	}
	return sent
}

// responsiveness asks the page for the time every 200 ms while run runs, and
// returns the longest answer: a page whose main thread is frozen answers late.
func responsiveness(b *browser, run func()) time.Duration {
	var worst time.Duration
	var mu sync.Mutex
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
			ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
			start := time.Now()
			_, _ = chromedp.Run(ctx, chromedp.Evaluate[float64](`performance.now()`))
			cancel()
			mu.Lock()
			worst = max(worst, time.Since(start))
			mu.Unlock()
		}
	})
	run()
	close(done)
	wg.Wait()
	return worst
}

// waitDrawn waits until the page drew n lines, and says where it stands if not.
func waitDrawn(b *browser, n int) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for eval[int](b, `document.getElementById("tail").stats.drawn`) < n {
		if time.Now().After(deadline) {
			b.t.Fatalf("the page drew %d of %d lines in 30 s: %s", eval[int](b, `document.getElementById("tail").stats.drawn`), n,
				eval[string](b, `JSON.stringify({...document.getElementById("tail").stats.state(), received: document.getElementById("tail").stats.received})`))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkResponsive fails the test when the page froze: when most frames that drew
// rows took over a second of the page's own time, or the page did not answer
// for 30 s. The bounds are far above what a page that keeps up takes (tens of
// ms), so that a machine busy with other work does not fail it; the figures are
// logged for docs/benchmarks.md.
func checkResponsive(t *testing.T, st tailStats, worst time.Duration) {
	t.Helper()
	if p95 := st.quantile(0.95); p95 > 1000 {
		t.Errorf("the page's frames took %.0f ms (p95) while lines poured in", p95)
	}
	if worst > 30*time.Second {
		t.Errorf("the page took %v to answer while lines poured in", worst)
	}
}

// TestUITailUnderLoad pours lines into a live tail open in Chromium: at 1,000
// lines a second every line is shown and the page keeps answering; at 5,000 the
// stream sends a sample, the page says so, and keeps its rows capped.
func TestUITailUnderLoad(t *testing.T) {
	s := startUIServer(t)
	b := newBrowser(t)
	s.login(b)
	drainURL := s.addDrainInUI(b, "busyapp")
	b.run("open the tail", chromedp.Navigate(s.url+"/ui/tail?app=busyapp"))
	b.waitJS("stream live", `document.querySelector("#tail-status.ok")`, 10*time.Second)
	stats := func() tailStats { return eval[tailStats](b, `document.getElementById("tail").stats`) }

	var sent int
	worst := responsiveness(b, func() { sent = flood(t, drainURL, 1000, 6*time.Second, "steady") })
	waitDrawn(b, sent)
	st := stats()
	t.Logf("1,000 lines/s for 6 s: %d sent, %d received, %d drawn in %d frames of %.0f ms (p50), %.0f ms (p95), %.0f ms (max); the page answered within %v",
		sent, st.Received, st.Drawn, len(st.FrameMs), st.quantile(0.5), st.quantile(0.95), st.MaxFrameMs, worst.Round(time.Millisecond))
	if st.Received != sent {
		t.Errorf("received %d of %d lines at 1,000 lines/s", st.Received, sent)
	}
	if hidden := eval[bool](b, `document.getElementById("tail-sampled").hidden`); !hidden {
		t.Error("the page says it samples at 1,000 lines/s")
	}
	checkResponsive(t, st, worst)
	b.screenshotViewport("tail-1000")

	before, frames := st.Received, len(st.FrameMs)
	worst = responsiveness(b, func() { sent = flood(t, drainURL, 5000, 6*time.Second, "flood") })
	b.waitJS("the sampling notice", `!document.getElementById("tail-sampled").hidden && document.getElementById("tail-sampled").textContent.startsWith("Sampling")`, 20*time.Second)
	st = stats()
	got := st.Received - before
	rows := eval[int](b, `document.querySelectorAll("#tail-log .row").length`)
	st.FrameMs = st.FrameMs[frames:]
	t.Logf("5,000 lines/s for 6 s: %d sent, %d shown (sampled), %d rows kept, frames of %.0f ms (p50), %.0f ms (p95); the page answered within %v",
		sent, got, rows, st.quantile(0.5), st.quantile(0.95), worst.Round(time.Millisecond))
	if got >= sent || got == 0 {
		t.Errorf("%d of %d lines reached the page at 5,000 lines/s; want a sample", got, sent)
	}
	if rows > 5000 {
		t.Errorf("%d rows in the page, over its cap of 5,000", rows)
	}
	checkResponsive(t, st, worst)
	b.screenshotViewport("tail-sampled")
	b.checkClean()
}
