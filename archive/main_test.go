package archive_test

import (
	"fmt"
	"os"
	"testing"
)

// TestMain runs the crash test's writer when asked to (a process the test
// kills), else the tests.
func TestMain(m *testing.M) {
	if dir := os.Getenv("ARCHIVE_CRASH_DIR"); dir != "" {
		if err := crashChild(dir, os.Getenv("ARCHIVE_CRASH_MODE")); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}
