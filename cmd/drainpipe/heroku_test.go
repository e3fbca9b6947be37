package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/heroku/herokuemu"
	"github.com/drainpipe/drainpipe/metrics"
)

func startHeroku(t *testing.T, apps ...string) (*herokuemu.Server, []string) {
	t.Helper()
	emu := herokuemu.New(herokuemu.Config{APIKey: "heroku-key"})
	for _, a := range apps {
		emu.AddApp(a)
	}
	url, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	home := t.TempDir() // no ~/.netrc: the key comes from the environment
	return emu, []string{"HEROKU_API_URL=" + url, "HEROKU_API_KEY=heroku-key", "HOME=" + home}
}

func decodeDrain(t *testing.T, out string) api.Drain {
	t.Helper()
	var d api.Drain
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	return d
}

// TestDrainsOnHeroku manages both halves of a drain with one command each.
func TestDrainsOnHeroku(t *testing.T) {
	t.Parallel()
	emu, env := startHeroku(t, "happ")
	s := startServer(t, "")
	out, errOut, code := s.cliEnv(env, "drains", "add", "happ", "--heroku", "--json")
	if code != 0 {
		t.Fatalf("add --heroku: exit %d: %s", code, errOut)
	}
	d := decodeDrain(t, out)
	hd := emu.Drains("happ")
	if d.Heroku == nil || len(hd) != 1 || hd[0].Token != d.Heroku.Token || hd[0].ID != d.Heroku.ID || hd[0].URL != d.URL {
		t.Fatalf("registration: ours %+v, Heroku's %+v", d.Heroku, hd)
	}
	if !strings.Contains(errOut, "HTTPS") {
		t.Errorf("no warning that an http:// URL cannot be reached by Heroku: %q", errOut)
	}
	// Again: neither a second drain here nor on Heroku.
	if _, errOut, code := s.cliEnv(env, "drains", "add", "happ", "--heroku", "--json"); code != 0 {
		t.Fatalf("add again: exit %d: %s", code, errOut)
	}
	if n := len(emu.Drains("happ")); n != 1 {
		t.Fatalf("Heroku has %d drains after adding twice, want 1", n)
	}
	out, _, code = s.cliEnv(env, "drains", "list", "--check", "--json")
	var ds []api.Drain
	if err := json.Unmarshal([]byte(out), &ds); code != 0 || err != nil || len(ds) != 1 {
		t.Fatalf("list --check: exit %d, %v, %q", code, err, out)
	}
	if ds[0].HerokuRegistered == nil || !*ds[0].HerokuRegistered {
		t.Fatalf("list --check: heroku_registered = %v, want true", ds[0].HerokuRegistered)
	}
	if _, errOut, code := s.cliEnv(env, "drains", "remove", "happ"); code != 0 {
		t.Fatalf("remove: exit %d: %s", code, errOut)
	}
	if n := len(emu.Drains("happ")); n != 0 {
		t.Fatalf("Heroku still has %d drains after remove", n)
	}
}

// TestHerokuErrorsLeaveNothingBehind: every failure is one sentence naming the
// cause, and no half-made drain stays on either side.
func TestHerokuErrorsLeaveNothingBehind(t *testing.T) {
	t.Parallel()
	emu, env := startHeroku(t, "exists")
	s := startServer(t, "")
	noKey := []string{env[0], "HEROKU_API_KEY=", "HOME=" + t.TempDir()}
	badKey := []string{env[0], "HEROKU_API_KEY=wrong-key", env[2]}
	cases := []struct {
		name  string
		env   []string
		app   string
		setup func()
		want  string
	}{
		{"missing key", noKey, "exists", nil, "HEROKU_API_KEY"},
		{"bad key", badKey, "exists", nil, "API key"},
		{"unknown app", env, "no-such-app", nil, "no-such-app"},
		{"rate limited", env, "exists", func() { emu.SetFail(10, 429, "rate_limit", "Your account reached the API rate limit") }, "rate limit"},
	}
	for _, c := range cases {
		if c.setup != nil {
			c.setup()
		}
		_, errOut, code := s.cliEnv(c.env, "drains", "add", c.app, "--heroku")
		if code == 0 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
			t.Errorf("%s: exit %d, stderr %q: want a failure naming %q", c.name, code, errOut, c.want)
		}
		if strings.Contains(errOut, "heroku-key") {
			t.Errorf("%s: the API key is in the error: %q", c.name, errOut)
		}
		out, _, _ := s.cli("drains", "list", "--json")
		if strings.Contains(out, `"app":"`+c.app+`"`) {
			t.Errorf("%s: a half-made drain was left behind: %s", c.name, out)
		}
	}
	emu.SetFail(0, 0, "", "")
	if n := len(emu.Drains("exists")); n != 0 {
		t.Fatalf("Heroku has %d drains after failed adds", n)
	}
}

// TestDroppedByHerokuIsCounted: Heroku's in-band loss reports (L10 and L12 lines
// in the realistic body: 3 + 222) and log-shuttle's drop headers (5 + 7) are
// counted per drain, in `drains list`, /metrics and the logplex.dropped metric; the
// L-lines are kept too. log-shuttle reports one loss both ways in one request (an
// L12 line and Logplex-Drop-Count): it is counted once (herokulog.BatchLoss).
func TestDroppedByHerokuIsCounted(t *testing.T) {
	t.Parallel()
	// The fixture's loss reports are years old: a retention that keeps their metric
	// intervals (the history's retention prunes old ones at its first flush).
	s := startServer(t, "", "--metrics-interval", "1s", "--retention", "876000h")
	u := s.addDrain("lossy")
	if code := post(t, u, bytes.NewReader(readFixture(t, "heroku-drain-realistic.logplex")), logplexHeaders); code != 204 {
		t.Fatalf("status %d", code)
	}
	h := map[string]string{"Logplex-Drop-Count": "5", "Logplex-Lost-Count": "7", "X-Request-Id": "shuttle-1"}
	if code := post(t, u, bytes.NewReader(readFixture(t, "log-shuttle/req1.body.bin")), h); code != 204 {
		t.Fatalf("status %d", code)
	}
	l12 := "<172>1 2026-11-22T03:38:43.986107+00:00 myhost token log-shuttle - - Error L12: 40 messages dropped since 2026-11-22T03:38:40.000000+00:00"
	both := fmt.Sprintf("%d %s", len(l12), l12)
	h = map[string]string{"Logplex-Drop-Count": "40", "X-Request-Id": "shuttle-2"}
	if code := post(t, u, strings.NewReader(both), h); code != 204 {
		t.Fatalf("status %d", code)
	}
	s.waitLines("lossy", 42)
	const want = 3 + 222 + 5 + 7 + 40
	out, _, code := s.cli("drains", "list", "--json")
	var ds []api.Drain
	if err := json.Unmarshal([]byte(out), &ds); code != 0 || err != nil || len(ds) != 1 {
		t.Fatalf("list: exit %d %v %q", code, err, out)
	}
	if ds[0].DroppedByHeroku != want {
		t.Fatalf("dropped_by_heroku = %d, want %d (L10 3 + L12 222 + headers 12 + L12 with its header 40)", ds[0].DroppedByHeroku, want)
	}
	if n := s.metric("drainpipe_heroku_dropped_lines_total", `app="lossy"`); n != want {
		t.Fatalf("drainpipe_heroku_dropped_lines_total = %v, want %d", n, want)
	}
	if got := waitMetricSum(t, s, "lossy", "logplex.dropped", want); got != want {
		t.Fatalf("logplex.dropped = %v, want %d", got, want)
	}
	out, _, _ = s.cli("search", "lossy", "L10")
	if !strings.Contains(out, "Error L10 (output buffer overflow)") {
		t.Fatalf("the L10 line itself is not kept:\n%s", out)
	}
}

// waitMetricSum waits until the sum of app's series named name, over all time, is
// want (the metrics sink flushes each interval after it ends), and returns it.
func waitMetricSum(t *testing.T, s *server, app, name string, want float64) float64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, errOut, code := s.cli("metrics", app, "--since", "200000h", "--name", name, "--json")
		if code != 0 {
			t.Fatalf("metrics: exit %d %s", code, errOut)
		}
		var series []metrics.Series
		if err := json.Unmarshal([]byte(out), &series); err != nil {
			t.Fatalf("metrics --json: %v: %q", err, out)
		}
		sum := 0.0
		for _, sr := range series {
			if sr.Name == name {
				sum += sr.Sum
			}
		}
		if sum >= want || time.Now().After(deadline) {
			return sum
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestDrainsSayWhatTheyDid: `drains add` and `remove` mention Heroku only when
// they called it, and a syslog drain is shown by its syslog address, never by an
// HTTPS URL holding its secret (issue 9 items 9 and 15).
func TestDrainsSayWhatTheyDid(t *testing.T) {
	t.Parallel()
	emu, env := startHeroku(t, "syslogapp")
	s := startServer(t, "")
	const token = "d.6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	out, errOut, code := s.cli("drains", "add", "tokenapp", "--heroku-token", token)
	if code != 0 {
		t.Fatalf("add --heroku-token: exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "Registered on Heroku") || strings.Contains(out, "http://") || !strings.Contains(out, token) {
		t.Errorf("add --heroku-token printed:\n%s\nwant the token, no Heroku registration and no HTTPS URL", out)
	}
	// The same token on a second drain is refused, and the new drain is not kept.
	_, errOut, code = s.cli("drains", "add", "otherapp", "--heroku-token", token)
	if code == 0 || !strings.Contains(errOut, "tokenapp") {
		t.Errorf("second drain with the same token: exit %d: %s; want a refusal naming tokenapp", code, errOut)
	}
	if list, _, _ := s.cli("drains", "list"); strings.Contains(list, "otherapp") {
		t.Errorf("the refused drain was kept:\n%s", list)
	}
	out, _, code = s.cli("drains", "remove", "tokenapp")
	if code != 0 || strings.Contains(out, "Removed its Heroku drain") || !strings.Contains(out, "heroku drains:remove "+token) {
		t.Errorf("remove printed:\n%s\nwant no Heroku removal, and how to remove the user's own drain", out)
	}

	const syslogURL = "syslog+tls://logs.example.com:6514"
	out, errOut, code = s.cliEnv(env, "drains", "add", "syslogapp", "--heroku", "--syslog", syslogURL)
	if code != 0 {
		t.Fatalf("add --heroku --syslog: exit %d: %s", code, errOut)
	}
	hd := emu.Drains("syslogapp")
	if len(hd) != 1 || hd[0].URL != syslogURL {
		t.Fatalf("Heroku has %+v, want the syslog URL", hd)
	}
	if !strings.Contains(out, syslogURL) || !strings.Contains(out, hd[0].Token) || strings.Contains(out, "http://") {
		t.Errorf("add --heroku --syslog printed:\n%s\nwant the syslog address and Heroku's token, no HTTPS URL", out)
	}
	out, errOut, code = s.cliEnv(env, "drains", "remove", "syslogapp")
	if code != 0 || !strings.Contains(out, "Removed its Heroku drain "+hd[0].Token) || len(emu.Drains("syslogapp")) != 0 {
		t.Errorf("remove: exit %d %s\n%s", code, errOut, out)
	}
}
