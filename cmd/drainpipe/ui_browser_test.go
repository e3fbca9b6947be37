package main_test

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/drainpipe/drainpipe"
)

// TestUIInBrowser drives the web UI in Chromium against the real server: log in,
// add a drain, watch a line arrive in the live tail, find it, open its context,
// see the metrics drawn, and remove the drain, with hostile lines in the mix.
func TestUIInBrowser(t *testing.T) {
	s := startUIServer(t)
	b := newBrowser(t)
	s.login(b)
	b.screenshot("drains-empty")
	drainURL := s.addDrainInUI(b, "webshop")
	b.screenshot("drain-added")

	now := time.Now()
	sendRecords(t, drainURL, traffic(1, now, 20*time.Minute, 600))
	marker := fmt.Sprintf("checkout completed order=%d", now.UnixNano())

	t.Run("live tail shows a new line within 2 s", func(t *testing.T) {
		b := b.in(t)
		b.run("open the tail", chromedp.Navigate(s.url+"/ui/tail?app=webshop"), chromedp.WaitVisible(chromedp.CSS(`#tail-log .row`)))
		b.waitJS("stream live", `document.querySelector("#tail-status.ok")`, 10*time.Second)
		sent := time.Now()
		sendRecords(t, drainURL, []drainpipe.Record{rec(time.Now(), "app", "web.1", 190, marker)})
		b.waitJS("the new line", fmt.Sprintf(`[...document.querySelectorAll("#tail-log .m")].some(e => e.textContent === %q)`, marker), 2*time.Second)
		t.Logf("line visible in the live tail %v after it was posted", time.Since(sent).Round(time.Millisecond))
		b.screenshot("tail")
	})

	t.Run("hostile lines render as text", func(t *testing.T) {
		b := b.in(t)
		hostile := []string{
			`<script>alert(1)</script>`,
			`<img src=x onerror=alert(2)>`,
			`"><svg onload=alert(3)> ' onmouseover=alert(4) x='`,
		}
		var recs []drainpipe.Record
		for _, h := range hostile {
			recs = append(recs, rec(time.Now(), "app", "web.1", 190, h))
		}
		sendRecords(t, drainURL, recs)
		for _, h := range hostile {
			b.waitJS("hostile line "+h, fmt.Sprintf(`[...document.querySelectorAll("#tail-log .m")].some(e => e.textContent === %q)`, h), 5*time.Second)
		}
		n := eval[int](b, `document.querySelectorAll("#tail-log img, #tail-log script, #tail-log svg").length`)
		if n != 0 {
			t.Errorf("%d elements made from log lines", n)
		}
		b.checkClean()
	})
	t.Run("search finds the line, the histogram has bars, a facet narrows", func(t *testing.T) {
		b := b.in(t)
		b.run("search", chromedp.Navigate(s.url+"/ui/search?app=webshop&q="+url.QueryEscape(`"`+marker+`"`)))
		b.waitJS("the line found", fmt.Sprintf(`[...document.querySelectorAll("#results .m")].some(e => e.textContent === %q)`, marker), 10*time.Second)
		b.waitJS("a bar in the histogram", `document.querySelectorAll("#hist button:not(.zero)").length === 1`, 10*time.Second)
		if bars := eval[int](b, `document.querySelectorAll("#hist button").length`); bars < 20 {
			t.Errorf("%d bars in the histogram", bars)
		}

		b.run("search everything", chromedp.Navigate(s.url+"/ui/search?app=webshop&from=1h"))
		b.waitJS("facets", `document.querySelector('#facets a[title="Narrow to dyno web.2"]')`, 10*time.Second)
		b.waitJS("lines", `document.querySelectorAll("#results .row").length >= 200`, 10*time.Second)
		b.screenshot("search")
		b.run("narrow to web.2", chromedp.Click(chromedp.CSS(`#facets a[title="Narrow to dyno web.2"]`)))
		b.waitJS("lines of web.2 only", `location.search.includes("dyno=web.2") && document.querySelectorAll("#results .row").length > 0 &&
			[...document.querySelectorAll("#results .row .d")].every(e => e.textContent.endsWith("[web.2]"))`, 10*time.Second)
		b.run("search everything again", chromedp.Navigate(s.url+"/ui/search?app=webshop&from=1h"))
		b.waitJS("status facet", `document.querySelector('#facets a[title="Narrow to status 500"]')`, 10*time.Second)
		b.run("narrow to status 500", chromedp.Click(chromedp.CSS(`#facets a[title="Narrow to status 500"]`)))
		b.waitJS("router lines of status 500", `location.search.includes("status%3D500") && document.querySelectorAll("#results .row").length > 0 &&
			[...document.querySelectorAll("#results .row .m")].every(e => e.textContent.includes("status=500"))`, 10*time.Second)
		b.waitJS("the status facet shows only 500", `[...document.querySelectorAll('#facets a[title^="Narrow to status"]')].length === 0`, 10*time.Second)
		b.screenshot("search-narrowed")

		b.run("zoom into a bar", chromedp.Navigate(s.url+"/ui/search?app=webshop&from=1h"))
		b.waitJS("bars", `document.querySelectorAll("#hist button:not(.zero)").length > 0`, 10*time.Second)
		b.run("click a bar", chromedp.Click(chromedp.CSS(`#hist button:not(.zero)`)))
		b.waitJS("the bar's range", `location.search.includes("to=") && document.querySelectorAll("#results .row").length > 0`, 10*time.Second)
	})

	t.Run("context opens around a line", func(t *testing.T) {
		b := b.in(t)
		b.run("search", chromedp.Navigate(s.url+"/ui/search?app=webshop&q="+url.QueryEscape(`"`+marker+`"`)))
		b.waitJS("the line", `document.querySelector("#results .row")`, 10*time.Second)
		b.run("open the line", chromedp.Click(chromedp.CSS(`#results .row`)))
		b.run("open its context", chromedp.Click(chromedp.CSS(`#results .detail a`)))
		b.waitJS("the context", `document.getElementById("line-context").dataset.loaded === "1"`, 10*time.Second)
		got := eval[string](b, `document.querySelector("#results .row.hit .m").textContent`)
		if got != marker {
			t.Errorf("the context's line is %q, want %q", got, marker)
		}
		before := eval[int](b, `(() => { let n = 0, r = document.querySelector("#results .row.hit"); while ((r = r.previousElementSibling)) n++; return n })()`)
		if before != 50 {
			t.Errorf("%d lines before the line, want 50", before)
		}
		b.screenshot("context")
	})

	t.Run("metric graphs draw with data", func(t *testing.T) {
		b := b.in(t)
		// The metrics of the lines sent close with their interval (1 s here).
		c, _ := s.sessionClient(t)
		waitCharts(t, c, s.url, "webshop", 10)
		b.run("open the metrics", chromedp.Navigate(s.url+"/ui/metrics?app=webshop&from=1h"))
		b.waitJS("graphs with data", `+document.getElementById("metrics").dataset.points > 100`, 10*time.Second)
		titles := eval[[]string](b, `[...document.querySelectorAll("#panels .panel h2")].map(h => h.firstChild.textContent)`)
		for _, want := range []string{"Requests", "Responses by status class", "Service time, all dynos", "Router errors (H codes)",
			"Memory (RSS) against quota", "Load average (1 min)", "Dyno errors (R codes)", "DATABASE active-connections", "db.query", "orders.created"} {
			if !slices.Contains(titles, want) {
				t.Errorf("no graph %q among %q", want, titles)
			}
		}
		canvases := eval[int](b, `document.querySelectorAll("#panels canvas").length`)
		if canvases < len(titles) {
			t.Errorf("%d canvases for %d graphs", canvases, len(titles))
		}
		b.screenshot("metrics")
	})
	b.checkClean()
}
