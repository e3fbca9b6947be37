package main_test

import (
	"encoding/json"
	"strings"
	"testing"

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
}
