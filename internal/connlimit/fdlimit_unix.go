//go:build unix

package connlimit

import "syscall"

// FDLimit is how many files this process may hold open (RLIMIT_NOFILE), 0 when
// unknown.
func FDLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return 0
	}
	return int(r.Cur)
}
