package archive_test

import (
	"bytes"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe/archive"
)

// TestPermissions: an archive directory others could read (an older version,
// or a umask that let them) is closed at Open, every file in it too; files
// created later are 0600 (under the umask 077 that drainpipe serve and
// TestMain set), and a data directory open to others is reported.
func TestPermissions(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(data, "archive")
	a := open(t, archive.Config{Dir: dir})
	write(t, a, entry(1, seqLines("app", received, 10)...))
	a.Close()
	// Open everything up, as a umask of 022 would have made it.
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(path, 0o755)
		}
		return os.Chmod(path, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	b := open(t, archive.Config{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	write(t, b, entry(2, seqLines("app", received, 10)...))
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v", path, fi.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("archive directory mode %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	if !strings.Contains(logs.String(), "the data directory can be read by other users") {
		t.Errorf("no warning about the data directory in the log:\n%s", logs.String())
	}
}
