package main_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
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

	t.Run("a line without a dyno shows its source alone, as heroku logs prints it", func(t *testing.T) {
		b := b.in(t)
		msg := fmt.Sprintf("a line without a dyno %d", time.Now().UnixNano())
		sendRecords(t, drainURL, []drainpipe.Record{rec(time.Now(), "app", "", 190, msg)})
		b.waitJS("the line, shown as app: not -[-] or app[-]", fmt.Sprintf(`[...document.querySelectorAll("#tail-log .row")].some(r =>
			r.querySelector(".m").textContent === %q && r.querySelector(".d").textContent === "app")`, msg), 5*time.Second)
	})

	t.Run("the live tail filters while it runs", func(t *testing.T) {
		b := b.in(t)
		b.run("type a query", chromedp.SendKeys(chromedp.CSS(`#tail-q`), `"completed order"`))
		b.waitJS("only matching lines", `location.search.includes("q=") && document.querySelectorAll("#tail-log .row").length > 0 &&
			[...document.querySelectorAll("#tail-log .m")].every(e => e.textContent.includes("completed order"))`, 10*time.Second)
		b.waitJS("stream live", `document.querySelector("#tail-status.ok")`, 10*time.Second)
		want := fmt.Sprintf("payment completed order=%d", time.Now().UnixNano())
		sendRecords(t, drainURL, []drainpipe.Record{
			rec(time.Now(), "app", "web.2", 190, "this line does not match"),
			rec(time.Now(), "app", "web.2", 190, want),
		})
		b.waitJS("the new matching line", fmt.Sprintf(`[...document.querySelectorAll("#tail-log .m")].some(e => e.textContent === %q)`, want), 5*time.Second)
		if n := eval[int](b, `[...document.querySelectorAll("#tail-log .m")].filter(e => e.textContent.includes("does not match")).length`); n != 0 {
			t.Errorf("%d lines that do not match the query", n)
		}
		b.run("dyno web.2", chromedp.SendKeys(chromedp.CSS(`#tail-filters input[name=dyno]`), "web.2"))
		b.waitJS("web.2's matching line only", fmt.Sprintf(`location.search.includes("dyno=web.2") && [...document.querySelectorAll("#tail-log .row")].length > 0 &&
			[...document.querySelectorAll("#tail-log .row")].every(r => r.querySelector(".d").textContent === "app[web.2]") &&
			[...document.querySelectorAll("#tail-log .m")].some(e => e.textContent === %q)`, want), 10*time.Second)
		b.run("clear the filters", chromedp.Navigate(s.url+"/ui/tail?app=webshop"), chromedp.WaitVisible(chromedp.CSS(`#tail-log .row`)))
		b.waitJS("stream live", `document.querySelector("#tail-status.ok")`, 10*time.Second)
	})

	t.Run("pause: N new lines wait, then show", func(t *testing.T) {
		b := b.in(t)
		b.run("pause", chromedp.Click(chromedp.CSS(`#tail-pause`)))
		b.waitJS("paused", `document.getElementById("tail-pause").getAttribute("aria-pressed") === "true"`, 5*time.Second)
		var recs []drainpipe.Record
		for i := range 3 {
			recs = append(recs, rec(time.Now(), "app", "web.1", 190, fmt.Sprintf("while paused %d", i)))
		}
		sendRecords(t, drainURL, recs)
		// How fast a line reaches the tail is the first subtest's check; here the
		// wait only has to outlast a busy machine (CI runs other packages beside).
		b.waitJS("the marker", `!document.getElementById("tail-new").hidden && document.getElementById("tail-new").textContent.startsWith("▼ 3 new lines")`, 10*time.Second)
		if n := eval[int](b, `[...document.querySelectorAll("#tail-log .m")].filter(e => e.textContent.startsWith("while paused")).length`); n != 0 {
			t.Errorf("%d lines drawn while paused", n)
		}
		b.run("resume", chromedp.Click(chromedp.CSS(`#tail-new`)))
		b.waitJS("the lines", `[...document.querySelectorAll("#tail-log .m")].filter(e => e.textContent.startsWith("while paused")).length === 3 && document.getElementById("tail-new").hidden`, 5*time.Second)
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
			b.waitJS("hostile line "+h, fmt.Sprintf(`[...document.querySelectorAll("#tail-log .m")].some(e => e.textContent === %q)`, h), 10*time.Second)
		}
		// A few lines of the kinds the page colours, for the README's picture.
		sendRecords(t, drainURL, []drainpipe.Record{
			rec(time.Now(), "heroku", "router", 158, `at=error code=H12 desc="Request timeout" method=POST path="/checkout" host=shop.example.com request_id=0b5e7a3c-1d2f-4e55-9a61-7c0d2e8b9f10 fwd="203.0.113.7" dyno=web.2 connect=0ms service=30000ms status=503 bytes=0 protocol=https`),
			rec(time.Now(), "heroku", "web.2", 134, "Error R14 (Memory quota exceeded)"),
			rec(time.Now(), "app", "web.2", 187, "ERROR -- : Rack::Timeout::RequestTimeoutException (Request ran for longer than 28000ms)"),
			rec(time.Now(), "app", "worker.1", 190, "WARN -- : [Sidekiq] retrying OrderMailer job jid=4f1c2b (attempt 2 of 25)"),
			rec(time.Now(), "heroku", "web.1", 190, "source=web.1 dyno=heroku.12345.web.1 sample#load_avg_1m=0.42 sample#memory_rss=212.35MB sample#memory_quota=512.00MB"),
		})
		b.waitJS("the coloured lines", `[...document.querySelectorAll("#tail-log .m")].some(e => e.textContent.startsWith("WARN -- : [Sidekiq]"))`, 5*time.Second)
		eval[int](b, `(() => { [...document.querySelectorAll("#tail-log .row.sev-error")].at(-3).click();
			const l = document.getElementById("tail-log"); l.scrollTop = l.scrollHeight; return 0 })()`)
		b.screenshotViewport("ui-tail")
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
		time.Sleep(500 * time.Millisecond) // a page too many would have been asked for by now
		if n := eval[int](b, `document.querySelectorAll("#results .row").length`); n != 200 {
			t.Errorf("%d lines before scrolling; want one page of 200", n)
		}
		eval[int](b, `(() => { const r = document.getElementById("results"); r.scrollTop = r.scrollHeight; return 0 })()`)
		b.waitJS("the next page", `document.querySelectorAll("#results .row").length >= 400`, 10*time.Second)
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

		// A query with OR is narrowed whole: AND binds tighter than OR, so
		// `status=500 OR status=503 code=H12` would keep every 500.
		b.run("status 500 or 503", chromedp.Navigate(s.url+"/ui/search?app=webshop&from=1h&q="+url.QueryEscape("status=500 OR status=503")))
		b.waitJS("the H12 facet", `document.querySelector('#facets a[title="Narrow to code H12"]')`, 10*time.Second)
		b.run("narrow to H12", chromedp.Click(chromedp.CSS(`#facets a[title="Narrow to code H12"]`)))
		b.waitJS("the H12 lines only", `new URLSearchParams(location.search).get("q") === "(status=500 OR status=503) code=H12" &&
			document.querySelectorAll("#results .row").length > 0 &&
			[...document.querySelectorAll("#results .row .m")].every(e => e.textContent.includes("code=H12"))`, 10*time.Second)

		b.run("errors of the last 30 minutes", chromedp.Navigate(s.url+"/ui/search?app=webshop&from=30m&q="+url.QueryEscape("status>=400")))
		b.waitJS("lines", `document.querySelectorAll("#results .row").length > 10 && document.querySelector("#facets h3")`, 10*time.Second)
		b.screenshotViewport("ui-search")

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

	t.Run("first page loads weigh at most 300 KB", func(t *testing.T) {
		b := b.in(t)
		if err := call(b.ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
			t.Fatal(err)
		}
		defer call(b.ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: false}) //nolint:errcheck
		for _, pg := range []struct{ path, ready string }{
			{"/ui/tail?app=webshop", `document.querySelectorAll("#tail-log .row").length > 100`},
			{"/ui/search?app=webshop", `+document.getElementById("search").dataset.shown >= 200 && document.querySelector("#facets h3")`},
			{"/ui/metrics?app=webshop", `+document.getElementById("metrics").dataset.drawn > 10`},
			{"/ui/drains", `document.getElementById("drains-table")`},
			{"/ui/system", `document.getElementById("sys-journal")`},
		} {
			b.resetTransferred()
			b.run("open "+pg.path, chromedp.Navigate(s.url+pg.path))
			b.waitJS(pg.path+" ready", pg.ready, 10*time.Second)
			time.Sleep(300 * time.Millisecond) // late requests (facets, histogram) finish
			n := b.bytesTransferred()
			t.Logf("%s: %d KB transferred with an empty cache", pg.path, n/1024)
			if n > 300<<10 {
				t.Errorf("%s: %d KB transferred, over 300 KB", pg.path, n/1024)
			}
		}
	})

	t.Run("keyboard alone", func(t *testing.T) {
		b := b.in(t)
		b.run("open the tail", chromedp.Navigate(s.url+"/ui/tail?app=webshop"), chromedp.WaitVisible(chromedp.CSS(`#tail-log .row`)))
		b.run("tab", chromedp.KeyEvent("\t"))
		if got := eval[string](b, `document.activeElement.className`); got != "skip" {
			t.Errorf("the first Tab focuses %q, want the skip link", got)
		}
		b.run("g s", chromedp.Click(chromedp.CSS(`h1, .status`)), chromedp.KeyEvent("g"), chromedp.KeyEvent("s"))
		b.waitJS("the search page", `location.pathname === "/ui/search" && location.search.includes("app=webshop")`, 5*time.Second)
		b.waitJS("results", `document.querySelectorAll("#results .row").length > 10`, 10*time.Second)
		// A key's keydown only: chromedp's KeyEvent sends its character as an
		// event of its own, which a browser does not when keydown was prevented.
		b.run("/", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeKeyDown, input.DispatchKeyEventTypeKeyUp} {
				if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{Type: typ, Key: "/", Code: "Slash", WindowsVirtualKeyCode: 191}); err != nil {
					return err
				}
			}
			return nil
		}))
		if got := eval[string](b, `document.activeElement.name`); got != "q" {
			t.Errorf("/ focuses %q, want the query box", got)
		}
		b.run("type a query", chromedp.KeyEvent("H12\r"))
		b.waitJS("the H12 search", `location.search.includes("q=H12") && document.querySelectorAll("#results .row").length > 0`, 10*time.Second)
		b.run("to the results", chromedp.Focus(chromedp.CSS(`#results`)), chromedp.KeyEvent("j"), chromedp.KeyEvent("\r"))
		b.waitJS("the line's details", `document.querySelector("#results .row:focus + .detail")`, 5*time.Second)
		b.run("?", chromedp.KeyEvent("?"))
		b.waitJS("the help", `document.getElementById("help").open`, 5*time.Second)
		b.run("escape", chromedp.KeyEvent("\u001b"))
		b.waitJS("the help closed", `!document.getElementById("help").open`, 5*time.Second)
	})

	t.Run("phone width", func(t *testing.T) {
		b := b.in(t)
		b.run("a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
		defer b.run("back to a desktop", chromedp.EmulateViewport(1400, 900))
		for _, pg := range []struct{ name, path, ready string }{
			{"tail", "/ui/tail?app=webshop", `document.querySelectorAll("#tail-log .row").length > 10`},
			{"search", "/ui/search?app=webshop", `document.querySelectorAll("#results .row").length > 10`},
			{"metrics", "/ui/metrics?app=webshop", `+document.getElementById("metrics").dataset.drawn > 10`},
			{"drains", "/ui/drains", `document.getElementById("drains-table")`},
			{"system", "/ui/system", `document.getElementById("sys-journal")`},
		} {
			b.run("open "+pg.path, chromedp.Navigate(s.url+pg.path))
			b.waitJS(pg.name+" ready", pg.ready, 10*time.Second)
			if w := eval[int](b, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
				t.Errorf("%s is %d px wider than a phone", pg.name, w)
			}
			b.screenshotViewport("phone-" + pg.name)
			if pg.name == "tail" {
				b.screenshotViewport("ui-phone-tail")
			}
		}
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
		b.run("the last 30 minutes", chromedp.Navigate(s.url+"/ui/metrics?app=webshop&from=30m"))
		b.waitJS("graphs", `+document.getElementById("metrics").dataset.drawn > 10`, 10*time.Second)
		b.screenshotViewport("ui-metrics")
	})
	t.Run("alerts: add a rule, test it against the last 24 h, mute and unmute it", func(t *testing.T) {
		b := b.in(t)
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
		defer hook.Close()
		b.run("open the alerts", chromedp.Navigate(s.url+"/ui/alerts?app=webshop"), chromedp.WaitVisible(chromedp.CSS(`#add-alert`)))
		b.run("fill the form",
			chromedp.SendKeys(chromedp.CSS(`#add-alert input[name=name]`), "h12"),
			chromedp.SetValue(chromedp.CSS(`#add-alert select[name=app]`), "webshop"),
			chromedp.SendKeys(chromedp.CSS(`#add-alert input[name=query]`), "H12"),
			chromedp.SendKeys(chromedp.CSS(`#add-alert input[name=threshold]`), "1"),
			chromedp.SendKeys(chromedp.CSS(`#add-alert input[name=notify]`), "webhook+"+hook.URL+"/hook"),
			chromedp.Submit(chromedp.CSS(`#add-alert input[name=name]`)),
		)
		b.waitJS("the rule's page", `location.pathname === "/ui/alerts/h12" && document.getElementById("alert-state")`, 10*time.Second)
		b.run("test it", chromedp.Click(chromedp.CSS(`#test-24h`)))
		b.waitJS("the backtest", `document.getElementById("backtest")`, 30*time.Second)
		text := get(b, "read the backtest", chromedp.Text(chromedp.CSS(`#backtest h2`)))
		if !strings.Contains(text, "would have fired") || strings.Contains(text, "fired 0 times") {
			t.Errorf("backtest: %q; the H12 lines of the last 20 minutes should fire", text)
		}
		b.screenshot("alert-backtest")
		b.screenshotViewport("ui-alert")
		b.run("mute for 1 h", chromedp.Click(chromedp.CSS(`button[name=for][value="1h"]`)))
		b.waitJS("muted", `document.getElementById("unmute")`, 10*time.Second)
		b.run("unmute", chromedp.Click(chromedp.CSS(`#unmute`)))
		b.waitJS("unmuted", `document.querySelector('button[name=for][value="1h"]')`, 10*time.Second)
		b.run("the list", chromedp.Navigate(s.url+"/ui/alerts"), chromedp.WaitVisible(chromedp.CSS(`tr[data-rule="h12"]`)))
		b.screenshot("alerts")
	})

	t.Run("system page", func(t *testing.T) {
		b := b.in(t)
		b.run("open the system page", chromedp.Navigate(s.url+"/ui/system"), chromedp.WaitVisible(chromedp.CSS(`#sys-journal`)))
		text := get(b, "read the page", chromedp.Text(chromedp.CSS(`main`)))
		for _, want := range []string{"Version", "Journal", "of 4.0 GiB", "archive", "Rejected and lost, by reason", "Lines"} {
			if !strings.Contains(text, want) {
				t.Errorf("the system page lacks %q", want)
			}
		}
		b.screenshot("system")
	})

	t.Run("a cross-site POST is refused", func(t *testing.T) {
		b := b.in(t)
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `<!doctype html><form id=f method=post action="%s/ui/drains"><input name=app value=evilapp><input name=csrf value=guessed></form>
<script>fetch(%q, {method: "POST", credentials: "include", mode: "no-cors", headers: {"X-CSRF-Token": "guessed"}, body: "x"}).finally(() => document.getElementById("f").submit())</script>`,
				s.url, s.url+"/ui/api/drains/webshop")
		}))
		defer evil.Close()
		b.run("visit another site", chromedp.Navigate(evil.URL))
		b.waitJS("the refusal", `location.pathname === "/ui/drains" && document.body.textContent.includes("came from another site")`, 10*time.Second)
		b.screenshot("cross-site-refused")
		if out, _, _ := s.cli("drains", "list"); strings.Contains(out, "evilapp") || !strings.Contains(out, "webshop") {
			t.Errorf("after the cross-site requests, the drains are:\n%s", out)
		}
		b.dropProblems() // the refused requests are logged as failed loads
	})

	t.Run("remove the drain", func(t *testing.T) {
		b := b.in(t)
		b.run("open the drains", chromedp.Navigate(s.url+"/ui/drains"), chromedp.WaitVisible(chromedp.CSS(`#drains-table`)))
		b.screenshot("drains")
		b.run("remove", chromedp.Click(chromedp.CSS(`tr[data-app="webshop"] a.danger`)), chromedp.WaitVisible(chromedp.CSS(`input[name=confirm]`)))
		b.run("confirm with a wrong name", chromedp.SendKeys(chromedp.CSS(`input[name=confirm]`), "webshopx"), chromedp.Submit(chromedp.CSS(`input[name=confirm]`)))
		b.waitJS("asked again", `document.querySelector(".drain-remove .error")`, 5*time.Second)
		b.dropProblems() // the 422 is logged as a failed load
		b.screenshot("drain-remove")
		b.run("confirm", chromedp.SendKeys(chromedp.CSS(`input[name=confirm]`), "webshop"), chromedp.Submit(chromedp.CSS(`input[name=confirm]`)))
		b.waitJS("removed", `location.search.includes("removed=webshop") && !document.querySelector('tr[data-app="webshop"]')`, 5*time.Second)
		if code := post(t, drainURL, strings.NewReader("0 "), map[string]string{"Content-Type": "application/logplex-1"}); code != http.StatusUnauthorized {
			t.Errorf("the removed drain's URL: %d, want 401", code)
		}
	})
	b.checkClean()
}
