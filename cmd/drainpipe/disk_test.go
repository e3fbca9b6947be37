package main_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory and returns it: a
// real disk that really fills. It needs root (or CAP_SYS_ADMIN), as ./scripts/test
// has in CI; without it the test fails, it is never skipped.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		t.Fatalf("mount a %s tmpfs on %s: %v (this test needs root or CAP_SYS_ADMIN to make a small real disk)", size, dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestSmallDiskDefaultJournalCap starts the server with the default 4 GiB journal
// cap on a 64 MB disk: it must refuse to start with a sentence that names the
// flag to lower, what is free, and a value that fits; that value must then work.
func TestSmallDiskDefaultJournalCap(t *testing.T) {
	t.Parallel()
	disk := mountTmpfs(t, "64m")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "--listen", "127.0.0.1:0", "--data", disk+"/data", "--metrics=false")
	cmd.Env = append(os.Environ(), "PORT=", "DRAINPIPE_JOURNAL_MAX_BYTES=")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("serve on a 64 MB disk with a 4 GiB journal cap: %v, want exit status 1\n%s", err, out)
	}
	msg := string(out)
	m := regexp.MustCompile(`lower --journal-max-bytes to (\d+)MiB or less`).FindStringSubmatch(msg)
	if m == nil || !strings.Contains(msg, "journal cap of 4.0 GiB") || !regexp.MustCompile(`\d+ MiB free`).MatchString(msg) {
		t.Fatalf("serve said:\n%s\nwant the cap, what is free, and which flag to lower to what", msg)
	}
	s := startServer(t, disk+"/data", "--journal-max-bytes", m[1]+"MiB", "--metrics=false")
	if code := post(t, s.addDrain("small"), strings.NewReader(""), nil); code != 204 {
		t.Fatalf("with --journal-max-bytes %sMiB, a post answered %d", m[1], code)
	}
}
