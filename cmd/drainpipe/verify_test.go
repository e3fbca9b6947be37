package main_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
	"github.com/drainpipe/drainpipe/verify"
)

// TestVerify runs the loss audit against the real server: read back from the
// archive and from CloudWatch it finds every pair; with the CloudWatch group
// refusing writes it names what is missing and exits non-zero.
func TestVerify(t *testing.T) {
	t.Parallel()
	emu, url := startEmulator(t, cwlemu.Faults{})
	env := awsEnv(url)
	s := startServerEnv(t, "", env, "--cloudwatch")
	u := s.addDrain("audited")

	// The audit reads CloudWatch with a key of its own, so the server's can be refused.
	readerEnv := append(append([]string{}, env...), "AWS_ACCESS_KEY_ID=AKIDREADER")
	run := func(args ...string) (verify.Report, string, int) {
		t.Helper()
		out, errOut, code := s.cliEnv(readerEnv, append([]string{"verify", u, "--count", "150", "--json"}, args...)...)
		var r verify.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("verify %v: exit %d, %v: %q %q", args, code, err, out, errOut)
		}
		return r, errOut, code
	}
	r, errOut, code := run("--wait", "30s")
	if code != 0 || r.Sent != 150 || r.Found != 150 || r.Missing != 0 || r.Duplicates != 0 {
		t.Fatalf("verify from the archive: exit %d %+v %s", code, r, errOut)
	}
	r, errOut, code = run("--from", "cloudwatch", "--wait", "30s")
	if code != 0 || r.Found != 150 || r.Missing != 0 {
		t.Fatalf("verify from CloudWatch: exit %d %+v %s", code, r, errOut)
	}

	// The server's key is now refused: its lines are parked, not in CloudWatch.
	emu.RejectAccessKey("AKIDEXAMPLE")
	r, errOut, code = run("--from", "cloudwatch", "--wait", "3s")
	if code == 0 || r.Missing != 150 || len(r.MissingIDs) != 150 || !strings.Contains(errOut, "incomplete") {
		t.Fatalf("verify with a failing group: exit %d, %+v, %q: want every pair missing and a non-zero exit", code, r, errOut)
	}
	out, _, _ := s.cli("drains", "list")
	if !strings.Contains(out, "cloudwatch=parked") {
		t.Errorf("drains list does not show the parked group:\n%s", out)
	}
	// Fixed: the parked lines are delivered, in order, and the audit passes again.
	emu.RejectAccessKey("")
	r, errOut, code = run("--from", "cloudwatch", "--wait", "60s")
	if code != 0 || r.Missing != 0 {
		t.Fatalf("verify after the group recovered: exit %d %+v %s", code, r, errOut)
	}
	// A drain with a group of its own is read back from that group, as the
	// README's `drains add --cloudwatch-group` and `verify --from cloudwatch` go.
	if _, errOut, code := s.cli("drains", "add", "audited", "--cloudwatch-group", "/prod/{app}"); code != 0 {
		t.Fatalf("drains add --cloudwatch-group: exit %d %s", code, errOut)
	}
	r, errOut, code = run("--from", "cloudwatch", "--wait", "30s")
	if code != 0 || r.Found != 150 || len(cloudwatchLines(emu, "/prod/audited")) < 150 {
		t.Fatalf("verify of a drain with its own group: exit %d %+v %s", code, r, errOut)
	}
}

// TestVerifyUnfinished: a run that cannot finish (the server killed with -9
// mid-run, or the command interrupted with Ctrl-C) still prints what it sent and
// what was acknowledged, says why it stopped, and exits non-zero; against a dead
// server it stops sending instead of retrying every pair.
func TestVerifyUnfinished(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		stop       func(s *server, cmd *exec.Cmd) // mid-run
		stderr     string
		unfinished string
	}{
		{"server killed", func(s *server, _ *exec.Cmd) { s.kill() }, "gave up", "stopped sending"},
		{"interrupted", func(_ *server, cmd *exec.Cmd) { _ = cmd.Process.Signal(syscall.SIGINT) }, "interrupted", "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "", "--metrics=false")
			u := s.addDrain("unfinished")
			cmd := exec.Command(binary, "verify", u, "--count", "100000", "--concurrency", "4", "--wait", "2s", "--json",
				"--server", s.url, "--data", s.data)
			cmd.Env = os.Environ()
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			if got := s.waitLines("unfinished", 200); len(got) < 200 {
				t.Fatalf("the server stored %d lines of the run in 60 s, want 200", len(got))
			}
			tt.stop(s, cmd)
			var err error
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				t.Fatalf("verify still running 60 s after the stop; stderr %q", errOut.String())
			}
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Errorf("verify: %v, want exit 1", err)
			}
			var r verify.Report
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatalf("verify --json printed no report: %v: %q; stderr %q", err, out.String(), errOut.String())
			}
			if r.Sent < 100 || r.Sent >= 100000 || r.Acknowledged < 100 || r.OK() || !strings.Contains(r.Unfinished, tt.unfinished) {
				t.Errorf("report %+v: want the pairs sent and acknowledged before the stop, unfinished: %s", r, tt.unfinished)
			}
			if !strings.Contains(errOut.String(), tt.stderr) || !strings.Contains(errOut.String(), "acknowledged") {
				t.Errorf("stderr %q: want %q and the counts", errOut.String(), tt.stderr)
			}
		})
	}
}

// TestVerifyRefusals: values that would run something other than what was asked
// are usage errors that name the flag, sending nothing: a zero count, concurrency
// or wait (once silently the defaults), and an --app that does not own the drain
// (every pair once reported lost).
func TestVerifyRefusals(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--metrics=false")
	u := s.addDrain("owner")
	s.addDrain("other")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--count", "0"}, "--count 0: want more than 0"},
		{[]string{"--count", "-5"}, "--count -5: want more than 0"},
		{[]string{"--concurrency", "0"}, "--concurrency 0: want more than 0"},
		{[]string{"--wait", "0"}, "--wait 0s: want more than 0"},
		{[]string{"--app", "other"}, "belongs to app owner, not other"},
	}
	for _, tt := range tests {
		out, errOut, code := s.cli(append([]string{"verify", u, "--count", "5"}, tt.args...)...)
		if code != 2 || !strings.Contains(errOut, tt.want) || out != "" {
			t.Errorf("verify %v: exit %d, %q %q; want exit 2 and %q", tt.args, code, out, errOut, tt.want)
		}
	}
	if got := s.allLines("owner"); len(got) != 0 {
		t.Errorf("%d lines sent by refused runs", len(got))
	}
	// The owner itself is accepted.
	if _, errOut, code := s.cli("verify", u, "--count", "5", "--app", "owner", "--wait", "30s"); code != 0 {
		t.Errorf("verify --app owner: exit %d %s", code, errOut)
	}
}
