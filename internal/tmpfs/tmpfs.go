//go:build linux

// Package tmpfs gives tests a small real disk that really fills: a tmpfs mounted
// for the test and unmounted after it. Mounting needs root (or CAP_SYS_ADMIN), as
// ./scripts/test has in CI; without it the test fails, it is never skipped.
package tmpfs

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Mount mounts a tmpfs of size (as mount(8) takes it: "64m") on a new directory,
// unmounted when the test ends, and returns the directory.
func Mount(t testing.TB, size string) string {
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

// Fill writes a file in dir that leaves about leave bytes free on its file
// system (less if others write meanwhile: it stops when the disk is full), and
// returns its path: remove it to give the space back.
func Fill(t testing.TB, dir string, leave int64) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for n := free - leave; n > 0; n -= int64(len(chunk)) {
		if _, err := f.Write(chunk[:min(int64(len(chunk)), n)]); errors.Is(err, syscall.ENOSPC) {
			break // someone else took the rest meanwhile
		} else if err != nil {
			t.Fatalf("fill %s: %v", dir, err)
		}
	}
	return path
}

// Free is what dir's file system has free.
func Free(t testing.TB, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}
