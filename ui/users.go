package ui

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Users are the people who may log in with a name and a password, read from a
// file of `name:bcrypt-hash` lines (the format of `htpasswd -B` and of
// `drainpipe ui-user`). Blank lines and lines starting with # are skipped. The file
// is read again, at a login or at any request of a session, when its modification
// time or size changed: adding a user needs no restart, and removing one or
// changing their password ends their sessions.
type Users struct {
	path string

	mu sync.Mutex
	// stamp is the file as last read, well formed or not.
	stamp fileStamp
	// bad is why the file as last read was refused; it is not read again until
	// it changes, so a bad edit costs one parse, not one per request.
	bad    error
	hashes map[string][]byte
}

// fileStamp tells a changed file from the one last read.
type fileStamp struct {
	// modTime is in nanoseconds: comparable with ==, unlike a time.Time.
	modTime, size int64
}

// LoadUsers reads the users file at path. Every line must be well formed: a
// mistake is reported with its line number rather than locking someone out.
func LoadUsers(path string) (*Users, error) {
	u := &Users{path: path}
	if err := u.reload(); err != nil {
		return nil, err
	}
	return u, nil
}

// reload reads the file again when it changed since the last read. A file that
// became unreadable or malformed keeps the users last read, so a bad edit does not
// lock everyone out; the error says why.
func (u *Users) reload() error {
	fi, err := os.Stat(u.path)
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	stamp := fileStamp{modTime: fi.ModTime().UnixNano(), size: fi.Size()}
	u.mu.Lock()
	same, bad := u.hashes != nil && stamp == u.stamp, u.bad
	u.mu.Unlock()
	if same {
		return bad
	}
	data, err := os.ReadFile(u.path)
	if err != nil {
		// Not remembered: a permission fixed with chmod leaves the stamp as it was.
		return fmt.Errorf("users file: %w", err)
	}
	hashes, err := ParseUsers(data)
	u.mu.Lock()
	defer u.mu.Unlock()
	u.stamp = stamp
	if err != nil {
		u.bad = fmt.Errorf("users file %s: %w", u.path, err)
		return u.bad
	}
	u.hashes, u.bad = hashes, nil
	return nil
}

// hash is user's bcrypt hash as the file last read holds it.
func (u *Users) hash(user string) ([]byte, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	h, ok := u.hashes[user]
	return h, ok
}

// ParseUsers reads `name:bcrypt-hash` lines into a map of name to hash.
func ParseUsers(data []byte) (map[string][]byte, error) {
	out := map[string][]byte{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hash, ok := strings.Cut(line, ":")
		if !ok || name == "" || hash == "" {
			return nil, fmt.Errorf("line %d: want NAME:BCRYPT-HASH", n)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("line %d: the hash of %q is not a bcrypt hash (make one with `drainpipe ui-user %s`): %w", n, name, name, err)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("line %d: user %q listed twice", n, name)
		}
		out[name] = []byte(hash)
	}
	return out, sc.Err()
}

// decoyHash is compared against when the user is unknown, so that a login takes
// as long for a name that does not exist as for a wrong password.
var decoyHash, _ = bcrypt.GenerateFromPassword([]byte("drainpipe decoy password"), bcrypt.DefaultCost)

// check reports whether password is user's, and returns the hash it matched: a
// session keeps it, and ends when the file no longer holds it.
func (u *Users) check(user, password string) ([]byte, bool, error) {
	err := u.reload()
	hash, ok := u.hash(user)
	if !ok {
		hash = decoyHash
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if !ok || !match {
		return nil, false, err
	}
	return hash, true, err
}

// HashPassword returns the bcrypt hash of password for a users file line.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), 12)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}
