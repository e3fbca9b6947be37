package main_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browser is a headless Chromium driven over the DevTools protocol: the UI
// tests run the real pages, their scripts and their Content-Security-Policy.
type browser struct {
	// t is the test or subtest the browser's calls fail.
	t *testing.T
	*browserState
}

type browserState struct {
	ctx context.Context
	// shots is where screenshots go; they stay after the test, for a person to look at.
	shots string

	mu       sync.Mutex
	dialogs  []string
	problems []string
	// transferred sums the bytes received over the network, per page load.
	transferred int64
}

// newBrowser starts Chromium. A machine without it fails the test: scripts/test
// installs Debian's chromium package.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: the web UI tests need a real browser. Run scripts/test as root, or `apt-get install chromium`.")
	}
	shots, err := os.MkdirTemp("", "drainpipe-ui-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	b := &browser{t: t, browserState: &browserState{ctx: ctx, shots: shots}}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(ctx, b.listen); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		call(ctx, network.Enable, network.EnableParams{}),
		call(ctx, runtime.Enable, cdp.Empty{}),
		call(ctx, page.Enable, page.EnableParams{}),
		call(ctx, cdplog.Enable, cdp.Empty{}),
	} {
		if err != nil {
			t.Fatalf("start chromium: %v", err)
		}
	}
	return b
}

func call[P, R any](ctx context.Context, cmd cdp.Command[P, R], params P) error {
	_, err := chromedp.Call(ctx, cmd, params)
	return err
}

// in is the browser failing t: a subtest's.
func (b *browser) in(t *testing.T) *browser { return &browser{t: t, browserState: b.browserState} }

// listen records JavaScript dialogs (a line's markup that ran would open one),
// uncaught exceptions, console errors, the browser's own errors (CSP violations,
// failed loads), and the bytes the network brought.
func (b *browserState) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *page.EventJavascriptDialogOpening:
		b.dialogs = append(b.dialogs, string(e.Type)+": "+e.Message)
		go func() { _ = call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false}) }()
	case *runtime.EventExceptionThrown:
		msg := e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
		b.problems = append(b.problems, "exception: "+msg)
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			b.problems = append(b.problems, "console error: "+strings.Join(parts, " "))
		}
	case *cdplog.EventEntryAdded:
		// CSP violations (source "security") and failed loads (source "network").
		if e.Entry.Level == cdplog.EntryLevelError {
			b.problems = append(b.problems, string(e.Entry.Source)+": "+e.Entry.Text+" "+e.Entry.URL)
		}
	case *network.EventLoadingFinished:
		b.transferred += int64(e.EncodedDataLength)
	}
}

// run runs actions with a deadline, failing the test with what was being done.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.screenshot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action that returns a value, with a deadline.
func get[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.screenshot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// eval evaluates a JavaScript expression.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	return get(b, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

// waitJS waits until the expression is true, up to d.
func (b *browser) waitJS(what, expr string, d time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.screenshot("timeout-" + strings.ReplaceAll(what, " ", "-"))
			b.t.Fatalf("waited %s for %s (%s): err=%v\npage then: %s", d, what, expr, err, b.pageState())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pageStateJS describes what a page shows that the waits look for: where it is,
// its status lines, and the live tail's own counts, so a wait that times out
// says whether the lines never came or came and were drawn otherwise.
const pageStateJS = `JSON.stringify({
	url: location.pathname + location.search,
	status: [...document.querySelectorAll(".status")].map(e => e.textContent),
	tailNew: document.getElementById("tail-new") && [document.getElementById("tail-new").hidden, document.getElementById("tail-new").textContent],
	tail: document.getElementById("tail") && document.getElementById("tail").stats &&
		Object.assign({received: document.getElementById("tail").stats.received, drawn: document.getElementById("tail").stats.drawn},
			document.getElementById("tail").stats.state()),
	lastRows: [...document.querySelectorAll("#tail-log .m, #results .m")].slice(-5).map(e => e.textContent),
})`

// pageState is pageStateJS's answer, or why there is none.
func (b *browser) pageState() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](pageStateJS))
	if err != nil {
		return "unknown: " + err.Error()
	}
	return s
}

// screenshot saves the whole page as name.png in the screenshots directory.
func (b *browser) screenshot(name string) string {
	return b.shoot(name, chromedp.FullScreenshot(100))
}

// screenshotViewport saves what the window shows.
func (b *browser) screenshotViewport(name string) string {
	return b.shoot(name, chromedp.CaptureScreenshot())
}

func (b *browser) shoot(name string, capture chromedp.Action[[]byte]) string {
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, capture)
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, strings.ToLower(name))
	p := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
	return p
}

// resetTransferred starts counting network bytes again.
func (b *browser) resetTransferred() {
	b.mu.Lock()
	b.transferred = 0
	b.mu.Unlock()
}

func (b *browser) bytesTransferred() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.transferred
}

// dropProblems forgets the errors the browser logged so far: a test that makes a
// request fail on purpose calls it.
func (b *browser) dropProblems() {
	b.mu.Lock()
	b.problems = nil
	b.mu.Unlock()
}

// checkClean fails the test when a dialog opened or a script failed.
func (b *browser) checkClean() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dialogs) > 0 {
		b.t.Errorf("JavaScript dialogs opened (markup from a log line ran?): %q", b.dialogs)
	}
	if len(b.problems) > 0 {
		b.t.Errorf("the pages' scripts failed or broke the CSP: %q", b.problems)
	}
	b.dialogs, b.problems = nil, nil
}
