package main_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

// drainOf reads app's drain through `drains list --json`.
func drainOf(t *testing.T, s *server, app string) api.Drain {
	t.Helper()
	out, errOut, code := s.cli("drains", "list", "--json")
	var ds []api.Drain
	if err := json.Unmarshal([]byte(out), &ds); code != 0 || err != nil {
		t.Fatalf("list: exit %d, %v: %q %q", code, err, out, errOut)
	}
	for _, d := range ds {
		if d.App == app {
			return d
		}
	}
	t.Fatalf("no drain of %s in %s", app, out)
	return api.Drain{}
}

// TestDrainsListEscapesSinkErrors: a store's error in the SINKS column has its
// control characters escaped (TAB too, which would break the table), not sent to
// the terminal (audit 2026-11-29: CloudWatch's ESC was printed raw).
func TestDrainsListEscapesSinkErrors(t *testing.T) {
	t.Parallel()
	emu, url := startEmulator(t, cwlemu.Faults{})
	emu.FailGroup("/heroku/cwapp", "AccessDeniedException", "denied\x1b[2J\there")
	s := startServerEnv(t, "", awsEnv(url), "--cloudwatch")
	u := s.addDrain("cwapp")
	if code := post(t, u, bytes.NewReader(logplexBody(time.Now(), "hello")), logplexHeaders); code != 204 {
		t.Fatalf("status %d", code)
	}
	var out string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if out, _, _ = s.cli("drains", "list"); strings.Contains(out, "cloudwatch=parked") {
			break
		}
	}
	if !strings.Contains(out, `denied\x1b[2J\there`) || strings.ContainsAny(out, "\x1b\t") {
		t.Errorf("drains list:\n%q\nwant the parked group's error with its ESC and TAB escaped", out)
	}
}

// TestDrainsAddSaysWhatChanged: --cloudwatch-group on a drain that exists says what
// it changed, from what (audit 2026-11-29: it printed only "already has drain").
func TestDrainsAddSaysWhatChanged(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	s.addDrain("logapp")
	for _, tt := range []struct{ group, want string }{
		{"/other/x", "Changed its CloudWatch group to /other/x (it was the server's --cloudwatch-group template)"},
		{"/other/x", "Its CloudWatch group is /other/x already: nothing changed."},
		{"/third", "Changed its CloudWatch group from /other/x to /third."},
	} {
		out, errOut, code := s.cli("drains", "add", "logapp", "--cloudwatch-group", tt.group)
		if code != 0 || !strings.Contains(out, "logapp already has drain") || !strings.Contains(out, tt.want) {
			t.Errorf("add --cloudwatch-group %s: exit %d: %q %q; want it to say %q", tt.group, code, out, errOut, tt.want)
		}
		if d := drainOf(t, s, "logapp"); d.CloudWatchGroup != tt.group {
			t.Errorf("group %q, want %q", d.CloudWatchGroup, tt.group)
		}
	}
}
