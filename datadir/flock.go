//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly || illumos

package datadir

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes an exclusive flock without waiting; held is false when another
// open file (in this process or another) holds it.
func tryLock(f *os.File) (held bool, err error) {
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, syscall.EINTR):
			continue
		}
		return false, err
	}
}

func unlock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
