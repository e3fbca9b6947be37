package main_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/heroku/herokuemu"
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
// counted per drain, in `drains list` and /metrics; the L-lines are kept too.
func TestDroppedByHerokuIsCounted(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	u := s.addDrain("lossy")
	if code := post(t, u, bytes.NewReader(readFixture(t, "heroku-drain-realistic.logplex")), logplexHeaders); code != 204 {
		t.Fatalf("status %d", code)
	}
	h := map[string]string{"Logplex-Drop-Count": "5", "Logplex-Lost-Count": "7", "X-Request-Id": "shuttle-1"}
	if code := post(t, u, bytes.NewReader(readFixture(t, "log-shuttle/req1.body.bin")), h); code != 204 {
		t.Fatalf("status %d", code)
	}
	s.waitLines("lossy", 41)
	out, _, code := s.cli("drains", "list", "--json")
	var ds []api.Drain
	if err := json.Unmarshal([]byte(out), &ds); code != 0 || err != nil || len(ds) != 1 {
		t.Fatalf("list: exit %d %v %q", code, err, out)
	}
	if ds[0].DroppedByHeroku != 237 {
		t.Fatalf("dropped_by_heroku = %d, want 237 (L10 3 + L12 222 + headers 12)", ds[0].DroppedByHeroku)
	}
	if n := s.metric("drainpipe_heroku_dropped_lines_total", `app="lossy"`); n != 237 {
		t.Fatalf("drainpipe_heroku_dropped_lines_total = %v, want 237", n)
	}
	out, _, _ = s.cli("search", "lossy", "L10")
	if !strings.Contains(out, "Error L10 (output buffer overflow)") {
		t.Fatalf("the L10 line itself is not kept:\n%s", out)
	}
}
