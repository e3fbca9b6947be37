package archive_test

import (
	"fmt"
	"os"
	"syscall"
	"testing"
)

// TestMain runs the crash test's writer when asked to (a process the test
// kills), else the tests; with the umask drainpipe serve sets, so that the
// files VictoriaLogs creates are 0600 (see TestPermissions).
func TestMain(m *testing.M) {
	syscall.Umask(0o077)
	if dir := os.Getenv("ARCHIVE_CRASH_DIR"); dir != "" {
		if err := crashChild(dir, os.Getenv("ARCHIVE_CRASH_MODE")); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}
