// Package datadir guards drainpipe's data directory: one process at a time.
//
// Two servers on one data directory share the journal's files and the archive's
// database without knowing it, and acknowledged lines of one of them never reach
// the archive. Lock takes an exclusive advisory lock (flock) on <dir>/lock and
// writes who holds it; a second process is refused with a sentence naming the
// first. The operating system releases the lock when its holder exits, however it
// exits, so a crash leaves no lock behind: the file stays, its content is only a
// note for the next reader.
package datadir

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// FileName is the lock file's name inside the data directory.
const FileName = "lock"

// Holder is who holds a data directory's lock, as written in its lock file.
type Holder struct {
	PID     int
	Host    string
	Started time.Time
}

func (h Holder) String() string {
	if h.PID == 0 {
		return "another process (it has not written its name yet)"
	}
	s := "drainpipe process " + strconv.Itoa(h.PID)
	if h.Host != "" {
		s += " on host " + h.Host
	}
	if !h.Started.IsZero() {
		s += ", started " + h.Started.UTC().Format(time.RFC3339)
	}
	return s
}

// InUseError is Lock's answer when another process holds the directory.
type InUseError struct {
	Dir    string
	Holder Holder
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("data directory %s is in use by %s; stop it first, or give this server its own data directory",
		e.Dir, e.Holder)
}

// ErrInUse matches an *InUseError with errors.Is.
var ErrInUse = errors.New("data directory in use")

// Is makes errors.Is(err, ErrInUse) hold for an *InUseError.
func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// Lock is a held lock on a data directory.
type Lock struct {
	f *os.File
}

// Acquire locks dir (which must exist) for this process and writes this process's
// pid, host name and start time into the lock file. It fails at once with an
// *InUseError when another process holds the lock.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock data directory %s: %w", dir, err)
	}
	if !held {
		holder := readHolder(f)
		f.Close()
		return nil, &InUseError{Dir: dir, Holder: holder}
	}
	if err := writeHolder(f); err != nil {
		_ = unlock(f)
		f.Close()
		return nil, fmt.Errorf("lock data directory %s: %w", dir, err)
	}
	return &Lock{f: f}, nil
}

// Release lets another process take the directory. The lock file stays: removing
// it would let a process lock a file that is no longer the directory's.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

func writeHolder(f *os.File) error {
	host, _ := os.Hostname()
	var b bytes.Buffer
	fmt.Fprintf(&b, "pid=%d\nhost=%s\nstarted=%s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(b.Bytes(), 0); err != nil {
		return err
	}
	return f.Sync()
}

// readHolder reads what the holder wrote; a file it has not written yet (or one
// damaged by hand) gives what could be read.
func readHolder(f *os.File) Holder {
	buf := make([]byte, 1024)
	n, _ := f.ReadAt(buf, 0)
	var h Holder
	for line := range strings.Lines(string(buf[:n])) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch k {
		case "pid":
			h.PID, _ = strconv.Atoi(v)
		case "host":
			h.Host = v
		case "started":
			h.Started, _ = time.Parse(time.RFC3339, v)
		}
	}
	return h
}
