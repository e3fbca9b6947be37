package main_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestSecondServerOnOneDataDirectory starts two servers on one data directory, as
// two `go run ./cmd/drainpipe serve` in two terminals do: the second must refuse
// to start, naming the first, instead of sharing the journal and losing lines.
func TestSecondServerOnOneDataDirectory(t *testing.T) {
	t.Parallel()
	first := startServer(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "--listen", "127.0.0.1:0", "--data", first.data)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the second server kept running on the same data directory:\n%s", out)
	}
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("second server: %v, want exit status 1\n%s", err, out)
	}
	want := fmt.Sprintf("data directory %s is in use by drainpipe process %d on host", first.data, first.cmd.Process.Pid)
	if !strings.Contains(string(out), want) || strings.Contains(string(out), "drainpipe serving") {
		t.Fatalf("second server said:\n%s\nwant a refusal saying %q", out, want)
	}
	// The first one is untouched.
	if code := post(t, first.addDrain("still"), strings.NewReader(""), nil); code != 204 {
		t.Fatalf("first server answered %d after the refused start", code)
	}
}
