package main_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/alert/notify"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/logplex"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The end-to-end alert tests run the real binary with short windows and a grace of
// 1 s. Lines are posted with the line times of the windows they are meant for
// (Heroku's logplex stamps each line; drainpipe windows by that time), often ahead
// of time, so which window holds what never depends on the machine's speed.

const hookSecret = "e2e-hook-S3KR1T"

// received is a notification the hook took, and when.
type received struct {
	notify notificationBody
	at     time.Time
}

type notificationBody struct {
	Version     int       `json:"version"`
	ID          string    `json:"id"`
	DedupeKey   string    `json:"dedupe_key"`
	Event       string    `json:"event"`
	Rule        string    `json:"rule"`
	GroupLabel  string    `json:"group_label"`
	Value       float64   `json:"value"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	SearchURL   string    `json:"search_url"`
	Reason      string    `json:"reason"`
	Samples     []struct {
		Message string `json:"message"`
	} `json:"samples"`
}

// hook is a webhook receiver that checks drainpipe's signature and records what it
// takes; it answers 500 to the first failFirst requests.
type hook struct {
	srv       *httptest.Server
	mu        sync.Mutex
	got       []received
	tries     int
	failFirst int
}

func newHook(t *testing.T, failFirst int) *hook {
	h := &hook{failFirst: failFirst}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	want := notify.Sign([]byte(hookSecret), r.Header.Get(notify.HeaderTimestamp), body)
	if !hmac.Equal([]byte(r.Header.Get(notify.HeaderSignature)), []byte(want)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tries++
	if h.tries <= h.failFirst {
		http.Error(w, "the receiver is down", http.StatusInternalServerError)
		return
	}
	var n notificationBody
	if err := json.Unmarshal(body, &n); err != nil || n.Version != 1 {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	h.got = append(h.got, received{notify: n, at: time.Now()})
	w.WriteHeader(http.StatusNoContent)
}

func (h *hook) url() string { return "webhook+" + h.srv.URL + "/hook#secret=" + hookSecret }

func (h *hook) received() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}

// events lists "rule event group" of what was received.
func (h *hook) events(rule string) []string {
	var out []string
	for _, r := range h.received() {
		if r.notify.Rule == rule {
			out = append(out, strings.TrimSpace(r.notify.Event+" "+r.notify.GroupLabel))
		}
	}
	return out
}

// waitEvents waits up to 90 s until rule's events are want (and fails on anything
// else than a prefix of want meanwhile).
func (h *hook) waitEvents(t *testing.T, s *server, rule string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		got := h.events(rule)
		if slices.Equal(got, want) {
			return
		}
		if len(got) > len(want) || !slices.Equal(got, want[:len(got)]) || time.Now().After(deadline) {
			t.Fatalf("%s: notifications %v, want %v\n%s", rule, got, want, s.logText())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// postAlertLines posts one logplex batch of messages, each stamped at its time.
func postAlertLines(t *testing.T, drainURL, source, dyno string, at []time.Time, msg func(i int) string) {
	t.Helper()
	if err := sendLines(drainURL, source, dyno, at, msg); err != nil {
		t.Fatal(err)
	}
}

// sendLines is postAlertLines for a goroutine of its own: it returns the error.
func sendLines(drainURL, source, dyno string, at []time.Time, msg func(i int) string) error {
	var body []byte
	for i, ts := range at {
		body = logplex.AppendFrame(body, logplex.AppendMessage(nil, drainpipe.Record{Priority: 158, Time: ts, Source: source, Dyno: dyno, Message: msg(i)}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, drainURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range logplexHeaders {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("post: %d", resp.StatusCode)
	}
	return nil
}

// spread returns n times over [from, from+span).
func spread(from time.Time, span time.Duration, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = from.Add(span * time.Duration(i) / time.Duration(n))
	}
	return out
}

func h12Line(i int) string {
	return fmt.Sprintf(`at=error code=H12 desc="Request timeout" method=GET path="/slow/%d" dyno=web.1 connect=1ms service=30000ms status=503 bytes=0`, i)
}

// addAlert runs `drainpipe alerts add` and fails the test on an error.
func (s *server) addAlert(args ...string) {
	s.t.Helper()
	out, errOut, code := s.cli(append([]string{"alerts", "add"}, args...)...)
	if code != 0 {
		s.t.Fatalf("alerts add: exit %d: %s%s", code, out, errOut)
	}
}

// alertStatus reads one rule through `drainpipe alerts list --json`.
func (s *server) alertStatus(name string) api.AlertStatus {
	s.t.Helper()
	out, errOut, code := s.cli("alerts", "list", "--json")
	if code != 0 {
		s.t.Fatalf("alerts list: exit %d: %s", code, errOut)
	}
	var all []api.AlertStatus
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		s.t.Fatalf("alerts list --json: %v: %s", err, out)
	}
	for _, st := range all {
		if st.Rule.Name == name {
			return st
		}
	}
	s.t.Fatalf("alerts list has no %s: %s", name, out)
	return api.AlertStatus{}
}

// nextWindow is the start of the next window of length w, at least margin away.
func nextWindow(w, margin time.Duration) time.Time {
	return time.Now().Add(margin).Truncate(w).Add(w)
}

// TestAlertMatchFiresOnceAndResolves: 10 H12 lines in one window fire the rule once,
// after the window's end plus the grace, with samples and a link; the next window
// without them resolves it; nothing more follows.
func TestAlertMatchFiresOnceAndResolves(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--alerts-grace", "1s")
	drain := s.addDrain("shop")
	h := newHook(t, 0)
	const win = 4 * time.Second
	s.addAlert("h12", "--app", "shop", "--query", "H12", "--threshold", "10", "--window", win.String(), "--notify", h.url())
	w0 := nextWindow(win, time.Second)
	postAlertLines(t, drain, "heroku", "router", spread(w0.Add(100*time.Millisecond), 3*time.Second, 10), h12Line)
	postAlertLines(t, drain, "heroku", "router", spread(w0.Add(win), 3*time.Second, 9), h12Line) // 9: under the threshold

	h.waitEvents(t, s, "h12", "firing", "resolved")
	got := h.received()
	f := got[0]
	if !f.notify.WindowStart.Equal(w0) || f.notify.Value != 10 || len(f.notify.Samples) != 5 || !strings.HasPrefix(f.notify.Samples[0].Message, "at=error code=H12") {
		t.Errorf("firing: %+v", f.notify)
	}
	if f.at.Before(w0.Add(win + time.Second)) {
		t.Errorf("fired at %v, before the window's end plus the grace (%v)", f.at, w0.Add(win+time.Second))
	}
	if !strings.HasPrefix(f.notify.SearchURL, "http://127.0.0.1:1/ui/search?app=shop&") || got[1].notify.DedupeKey != f.notify.DedupeKey {
		t.Errorf("search URL %s, dedupe keys %s %s", f.notify.SearchURL, f.notify.DedupeKey, got[1].notify.DedupeKey)
	}
	if !got[1].notify.WindowStart.Equal(w0.Add(win)) || got[1].notify.Value != 9 {
		t.Errorf("resolved for the window at %v with %v lines, want %v with 9", got[1].notify.WindowStart, got[1].notify.Value, w0.Add(win))
	}
	time.Sleep(3 * win)
	if ev := h.events("h12"); len(ev) != 2 {
		t.Errorf("later windows notified again: %v", ev)
	}
	st := s.alertStatus("h12")
	if st.State != "resolved" || st.Delivered != 2 || st.LastDelivery == nil || !st.LastDelivery.OK {
		t.Errorf("status %+v", st)
	}
}

// TestAlertAbsence: a heartbeat that stops fires the absence rule for the first
// window without it, and its return resolves it.
func TestAlertAbsence(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--alerts-grace", "1s")
	drain := s.addDrain("cron")
	h := newHook(t, 0)
	const win = 4 * time.Second
	now := time.Now()
	w0 := nextWindow(win, time.Second)
	heartbeat := func(int) string { return "heartbeat ok" }
	// Beats from the current window through w0's fourth, none in the three after,
	// then back. (w0 may be two windows ahead: no window before it goes without.)
	cur := now.Truncate(win)
	postAlertLines(t, drain, "app", "clock.1", spread(cur, w0.Add(4*win).Sub(cur), int(w0.Add(4*win).Sub(cur)/win)*4), heartbeat)
	postAlertLines(t, drain, "app", "clock.1", spread(w0.Add(7*win), 3*win, 12), heartbeat)
	s.addAlert("cron", "--app", "cron", "--kind", "absence", "--query", "heartbeat", "--window", win.String(), "--notify", h.url())
	h.waitEvents(t, s, "cron", "firing", "resolved")
	got := h.received()
	if !got[0].notify.WindowStart.Equal(w0.Add(4*win)) || !got[1].notify.WindowStart.Equal(w0.Add(7*win)) {
		t.Errorf("fired for %v, resolved for %v; want %v and %v", got[0].notify.WindowStart, got[1].notify.WindowStart, w0.Add(4*win), w0.Add(7*win))
	}
}

// TestAlertFlappingGivesNoStorm: counts crossing the threshold window after window
// fire once and resolve once with a recovery threshold, and never with `for 2`.
func TestAlertFlappingGivesNoStorm(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--alerts-grace", "1s")
	drain := s.addDrain("flappy")
	h := newHook(t, 0)
	const win = 4 * time.Second
	s.addAlert("hysteresis", "--app", "flappy", "--query", "H12", "--threshold", "10", "--recover", "3", "--window", win.String(), "--notify", h.url())
	s.addAlert("for2", "--app", "flappy", "--query", "R14", "--threshold", "10", "--for", "2", "--window", win.String(), "--notify", h.url())
	w0 := nextWindow(win, time.Second)
	for i, n := range []int{12, 4, 12, 4, 12, 4, 0} {
		postAlertLines(t, drain, "heroku", "router", spread(w0.Add(time.Duration(i)*win), 3*time.Second, n), h12Line)
	}
	for i, n := range []int{12, 0, 12, 2, 12, 0, 12} {
		postAlertLines(t, drain, "heroku", "web.1", spread(w0.Add(time.Duration(i)*win), 3*time.Second, n), func(int) string { return "Error R14 (Memory quota exceeded)" })
	}
	h.waitEvents(t, s, "hysteresis", "firing", "resolved")
	if st := s.alertStatus("for2"); st.Evaluated < 8 || len(h.events("for2")) != 0 {
		t.Errorf("for 2: %d windows evaluated, notifications %v", st.Evaluated, h.events("for2"))
	}
	time.Sleep(2 * win)
	if ev := h.events("hysteresis"); len(ev) != 2 {
		t.Errorf("hysteresis: %v", ev)
	}
}

// TestAlertKillMidWindow: kill -9 in the middle of the window that holds the lines,
// restart after it ended: the window is evaluated (none is missed), the rule fires
// once; kill -9 again while it fires: the resolution is still sent.
func TestAlertKillMidWindow(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--alerts-grace", "1s")
	drain := s.addDrain("crashy")
	h := newHook(t, 0)
	const win = 5 * time.Second
	s.addAlert("h12", "--app", "crashy", "--query", "H12", "--threshold", "10", "--window", win.String(), "--notify", h.url())
	created := s.alertStatus("h12").Created // its first window is the one it was made in
	w0 := nextWindow(win, time.Second)
	postAlertLines(t, drain, "heroku", "router", spread(w0.Add(100*time.Millisecond), 3*win-time.Second, 36), h12Line) // three windows of 12
	time.Sleep(time.Until(w0.Add(win / 2)))
	s.kill()
	time.Sleep(time.Until(w0.Add(win + 2*time.Second))) // down across the window's end
	s.start()
	h.waitEvents(t, s, "h12", "firing")
	s.kill() // while it fires: two more windows of lines, then none
	s.start()
	h.waitEvents(t, s, "h12", "firing", "resolved")
	got := h.received()
	if !got[0].notify.WindowStart.Equal(w0) || !got[1].notify.WindowStart.Equal(w0.Add(3*win)) {
		t.Errorf("fired for %v, resolved for %v; want %v, %v", got[0].notify.WindowStart, got[1].notify.WindowStart, w0, w0.Add(3*win))
	}
	st := s.alertStatus("h12")
	first := created.Truncate(win)
	if want := int64(st.LastWindow.End.Sub(first) / win); st.Evaluated != want {
		t.Errorf("evaluated %d windows from %v to %v, want %d: one each, none missed", st.Evaluated, first, st.LastWindow.End, want)
	}
	out, _, _ := s.cli("alerts", "history", "h12", "--json", "--limit", "0")
	var hist api.AlertHistory
	if err := json.Unmarshal([]byte(out), &hist); err != nil {
		t.Fatal(err)
	}
	firing := 0
	for _, e := range hist.Events {
		if e.Type == "firing" {
			firing++
		}
	}
	if firing != 1 {
		t.Errorf("%d firing events in the history: %+v", firing, hist.Events)
	}
}

// TestAlertArchiveLagGivesNoFalseAbsence: the archive gets nothing for two minutes
// (its journal consumer is paused, in a NATS server of the test's own) while the
// heartbeat keeps coming and is journaled. The absence rule waits for the archive
// instead of firing, says so, and then catches up, every window once, without a
// notification.
func TestAlertArchiveLagGivesNoFalseAbsence(t *testing.T) {
	t.Parallel()
	natsURL := startNATSServer(t)
	s := startServer(t, "", "--alerts-grace", "1s", "--metrics=false", "--nats", natsURL, "--node", "lagging")
	drain := s.addDrain("beat")
	h := newHook(t, 0)
	const win = 5 * time.Second
	// The heartbeat: every half second, from before the rule until the end.
	stop := make(chan struct{})
	beating := make(chan struct{})
	go func() {
		defer close(beating)
		for {
			if err := sendLines(drain, "app", "clock.1", []time.Time{time.Now()}, func(int) string { return "heartbeat ok" }); err != nil {
				t.Errorf("heartbeat: %v", err) // journaled: a 204 even while the archive is paused
			}
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	defer func() { close(stop); <-beating }()
	s.waitLines("beat", 1)
	s.addAlert("beat", "--app", "beat", "--kind", "absence", "--query", "heartbeat", "--window", win.String(), "--notify", h.url())
	created := s.alertStatus("beat").Created

	// On an external NATS the archive is the node's replica: archive-<node>.
	pausedAt := pauseArchive(t, natsURL, "archive-lagging", 2*time.Minute)
	sawWaiting := false
	for time.Since(pausedAt) < 2*time.Minute {
		if !sawWaiting && time.Since(pausedAt) > 30*time.Second {
			st := s.alertStatus("beat")
			sawWaiting = strings.Contains(st.Waiting, "waiting for the archive")
		}
		time.Sleep(time.Second)
	}
	if !sawWaiting {
		t.Error("the status never said the rule waits for the archive")
	}
	if ev := h.events("beat"); len(ev) != 0 {
		t.Fatalf("notified while the archive lagged: %v", ev)
	}
	// Caught up: the windows of the lag are evaluated, and the heartbeat was in each.
	deadline := time.Now().Add(90 * time.Second)
	for {
		st := s.alertStatus("beat")
		if st.LastWindow != nil && st.LastWindow.End.After(pausedAt.Add(2*time.Minute)) {
			if want := int64(st.LastWindow.End.Sub(created.Truncate(win)) / win); st.Evaluated != want {
				t.Errorf("evaluated %d windows, want %d", st.Evaluated, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rule did not catch up: %+v\n%s", st, s.logText())
		}
		time.Sleep(time.Second)
	}
	if ev := h.events("beat"); len(ev) != 0 {
		t.Errorf("a false absence: %v", ev)
	}
}

// startNATSServer runs a NATS JetStream server process, built from the module this
// project depends on, and returns its URL.
func startNATSServer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "nats-server")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput(); err != nil {
		t.Fatalf("build nats-server: %v\n%s", err, out)
	}
	port := freePort(t)
	ns := exec.Command(bin, "-js", "-sd", filepath.Join(dir, "js"), "-a", "127.0.0.1", "-p", fmt.Sprint(port))
	if err := ns.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ns.Process.Kill(); _ = ns.Wait() })
	waitTCP(t, fmt.Sprintf("127.0.0.1:%d", port))
	return fmt.Sprintf("nats://127.0.0.1:%d", port)
}

// pauseArchive pauses the archive's journal consumer for d: the archive receives
// nothing meanwhile, as when it cannot keep up.
func pauseArchive(t *testing.T, natsURL, consumer string, d time.Duration) time.Time {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	at := time.Now()
	if _, err := js.PauseConsumer(ctx, "DRAINPIPE_LOGS", consumer, at.Add(d)); err != nil {
		t.Fatalf("pause the archive's consumer: %v", err)
	}
	return at
}

// TestAlertFailingWebhookRetriedAndReported: a receiver that answers 500 three
// times gets the notification on a later try; meanwhile the failure shows in
// `alerts list`, its history and /metrics.
func TestAlertFailingWebhookRetriedAndReported(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--alerts-grace", "1s")
	drain := s.addDrain("flaky")
	h := newHook(t, 3)
	const win = 4 * time.Second
	s.addAlert("h12", "--app", "flaky", "--query", "H12", "--window", win.String(), "--notify", h.url())
	postAlertLines(t, drain, "heroku", "router", []time.Time{time.Now()}, h12Line)
	deadline := time.Now().Add(60 * time.Second)
	var st api.AlertStatus
	for {
		st = s.alertStatus("h12")
		if st.LastDelivery != nil && !st.LastDelivery.OK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed delivery reported: %+v", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(st.LastDelivery.Error, "answered 500") || len(st.Outbox) == 0 || strings.Contains(st.LastDelivery.Error, hookSecret) {
		t.Errorf("status while failing: %+v, outbox %+v", st.LastDelivery, st.Outbox)
	}
	out, _, _ := s.cli("alerts", "list")
	if !strings.Contains(out, "FAILED: webhook+http://127.0.0.1") {
		t.Errorf("alerts list does not show the failure:\n%s", out)
	}
	if v := s.metric("drainpipe_alerts_deliveries_total", `rule="h12"`, `result="error"`); v < 1 {
		t.Errorf("drainpipe_alerts_deliveries_total{result=error} = %v", v)
	}
	h.waitEvents(t, s, "h12", "firing", "resolved")
	if h.tries < 5 {
		t.Errorf("%d tries", h.tries)
	}
	st = s.alertStatus("h12")
	if !st.LastDelivery.OK || st.Failed != 3 || st.Delivered < 1 {
		t.Errorf("after the retries: %+v (failed %d, delivered %d)", st.LastDelivery, st.Failed, st.Delivered)
	}
	out, _, _ = s.cli("alerts", "history", "h12")
	if !strings.Contains(out, "failed") || !strings.Contains(out, "delivered") {
		t.Errorf("history:\n%s", out)
	}
}

// TestAlertsFile: a rules file with mistakes stops the server at start with each
// mistake and its line; a good one's rules run, and are read-only in the CLI.
func TestAlertsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("rules:\n  - name: a\n    query: H12\n    threshold: ten\n    notify: [pagerduty://abcdef0123456789abcdef0123456789]\n  - name: b\n    notify: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runDrainpipe(t, nil, "serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--alerts-file", bad)
	if code == 0 || !strings.Contains(errOut, "bad.yaml:4: threshold: want a number") || !strings.Contains(errOut, `bad.yaml:6: rule "b"`) {
		t.Errorf("exit %d:\n%s", code, errOut)
	}
	good := filepath.Join(dir, "alerts.yaml")
	if err := os.WriteFile(good, []byte("rules:\n  - name: crashes\n    app: \"*\"\n    preset: crashes\n    notify: [\"pagerduty://${PD_KEY}\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServerEnv(t, "", []string{"PD_KEY=abcdef0123456789abcdef0123456789"}, "--alerts-file", good)
	st := s.alertStatus("crashes")
	if st.Rule.Source != "file" || st.Rule.Line != 2 || st.Rule.Notify[0] != "pagerduty://…6789" {
		t.Errorf("file rule %+v", st.Rule)
	}
	if _, errOut, code := s.cli("alerts", "remove", "crashes"); code != 1 || !strings.Contains(errOut, "defined in the alerts file") {
		t.Errorf("remove a file rule: exit %d: %s", code, errOut)
	}
	if _, errOut, code := s.cli("alerts", "add", "crashes", "--app", "x", "--query", "y", "--notify", "pagerduty://abcdef0123456789abcdef0123456789"); code != 1 || !strings.Contains(errOut, "defined in the alerts file") {
		t.Errorf("add over a file rule: exit %d: %s", code, errOut)
	}
	if out, errOut, code := s.cli("alerts", "mute", "crashes", "--for", "1h"); code != 0 || !strings.Contains(out, "muted until") {
		t.Errorf("mute a file rule: exit %d: %s%s", code, out, errOut)
	}
}

// TestAlertSecretsStaySecret: destination secrets are never printed back, logged, or
// written in clear to the data directory.
func TestAlertSecretsStaySecret(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	secrets := []string{"T0KENPATHS3KR1T", "pd0123456789abcdefROUTINGS3KR1T9", "hm4cS3KR1T", "p4ssw0rdS3KR1T"}
	s.addAlert("x", "--app", "shop", "--query", "H12",
		"--notify", "slack+https://hooks.slack.com/services/T000/B000/"+secrets[0],
		"--notify", "pagerduty://"+secrets[1],
		"--notify", "webhook+https://ops.example.com/hooks/"+secrets[0]+"#secret="+secrets[2],
		"--notify", "smtp://alerts:"+secrets[3]+"@mail.example.com:587/?to=oncall@example.com&from=dp@example.com")
	var shown strings.Builder
	for _, args := range [][]string{{"alerts", "list"}, {"alerts", "list", "--json"}, {"alerts", "history", "x", "--json"}} {
		out, errOut, _ := s.cli(args...)
		shown.WriteString(out + errOut)
	}
	shown.WriteString(s.logText())
	_ = filepath.Walk(s.data, func(path string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			b, _ := os.ReadFile(path)
			shown.Write(b)
		}
		return nil
	})
	for _, sec := range secrets {
		if strings.Contains(shown.String(), sec) {
			t.Errorf("the secret %s is shown, logged or stored in clear", sec)
		}
	}
	if fi, err := os.Stat(filepath.Join(s.data, "alerts.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("alerts.key: %v, %v", fi.Mode(), err)
	}
}

// TestAlertAddNotesAnAppWithoutDrain: a rule over a mistyped app is taken (a
// rule may come before its drain) but the CLI says the app has no drain.
func TestAlertAddNotesAnAppWithoutDrain(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	s.addDrain("shop")
	h := newHook(t, 0)
	for _, c := range []struct {
		app  string
		note bool
	}{{"shpo", true}, {"shop", false}, {"*", false}} {
		_, errOut, code := s.cli("alerts", "add", "r-"+strings.Trim(c.app, "*")+"all", "--app", c.app, "--query", "H12", "--notify", h.url())
		if code != 0 || strings.Contains(errOut, "has no drain") != c.note {
			t.Errorf("alerts add --app %s: exit %d, stderr %q; want a note %v", c.app, code, errOut, c.note)
		}
	}
}

// TestAlertBacktest: `alerts test` reads stored lines and says when the rule would
// have fired and resolved, sending nothing.
func TestAlertBacktest(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--alerts-grace", "1s")
	drain := s.addDrain("past")
	h := newHook(t, 0)
	now := time.Now().Truncate(time.Minute)
	postAlertLines(t, drain, "heroku", "router", spread(now.Add(-50*time.Minute), 2*time.Minute, 30), h12Line)
	postAlertLines(t, drain, "heroku", "router", spread(now.Add(-20*time.Minute), time.Minute, 30), h12Line)
	s.waitLines("past", 60)
	s.addAlert("h12", "--app", "past", "--preset", "router-errors", "--notify", h.url())
	// --since as every other command takes it (2d and yesterday were refused).
	for _, since := range []string{"1h", "yesterday", "2d"} {
		out, errOut, code := s.cli("alerts", "test", "h12", "--since", since)
		if code != 0 {
			t.Fatalf("alerts test --since %s: exit %d: %s", since, code, errOut)
		}
		for _, want := range []string{"firing", "resolved", "code=H12", "It would have fired 2 times and resolved 2 times", "nothing is sent"} {
			if !strings.Contains(out, want) {
				t.Errorf("--since %s: output lacks %q:\n%s", since, want, out)
			}
		}
	}
	if _, errOut, code := s.cli("alerts", "test", "h12", "--since", "soon"); code == 0 || !strings.Contains(errOut, "since") {
		t.Errorf("alerts test --since soon: exit %d, %q; want a refusal naming since", code, errOut)
	}
	time.Sleep(3 * time.Second)
	if ev := h.events("h12"); len(ev) != 0 {
		t.Errorf("the backtest notified: %v", ev)
	}
}

// TestAlertMetricRule: a metric rule over the metrics pipeline: router.service p95
// above 2000 ms on one dyno fires for that dyno, and resolves when it is fast again.
func TestAlertMetricRule(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--alerts-grace", "1s", "--metrics-interval", "1s")
	drain := s.addDrain("slowapp")
	h := newHook(t, 0)
	const win = 4 * time.Second
	s.addAlert("slow", "--app", "slowapp", "--metric", "router.service", "--agg", "p95", "--threshold", "2000",
		"--group-by", "dyno", "--window", win.String(), "--notify", h.url())
	w0 := nextWindow(win, 2*time.Second)
	router := func(dyno string, ms int) func(int) string {
		return func(i int) string {
			return fmt.Sprintf(`at=info method=GET path="/r/%d" host=slowapp.herokuapp.com dyno=%s connect=1ms service=%dms status=200 bytes=10`, i, dyno, ms)
		}
	}
	// The lines are posted as their windows come: a metric interval is flushed once
	// it has ended, so a line for it must arrive before.
	for i, ms := range []int{3000, 3000, 20, 20} {
		at := w0.Add(time.Duration(i) * win)
		time.Sleep(time.Until(at))
		postAlertLines(t, drain, "heroku", "router", spread(at.Add(100*time.Millisecond), win/2, 20), router("web.1", ms))
		postAlertLines(t, drain, "heroku", "router", spread(at.Add(100*time.Millisecond), win/2, 20), router("web.2", 15))
	}
	h.waitEvents(t, s, "slow", "firing source=web.1", "resolved source=web.1")
	if f := h.received()[0].notify; f.Value < 2900 || f.Value > 3100 || !f.WindowStart.Equal(w0) {
		t.Errorf("firing: value %v for the window at %v", f.Value, f.WindowStart)
	}
}
