//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || illumos || windows)

package datadir

import (
	"fmt"
	"os"
	"runtime"
)

// tryLock refuses: without a lock two servers could share one directory and lose
// acknowledged lines, which is worse than not starting.
func tryLock(*os.File) (bool, error) {
	return false, fmt.Errorf("locking a directory is not supported on %s", runtime.GOOS)
}

func unlock(*os.File) error { return nil }
