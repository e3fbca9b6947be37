package ui

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Users are the people who may log in with a name and a password, read from a
// file of `name:bcrypt-hash` lines (the format of `htpasswd -B` and of
// `drainpipe ui-user`). Blank lines and lines starting with # are skipped. The file
// is read again at a login when its modification time changed, so adding a user
// needs no restart.
type Users struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	hashes  map[string][]byte
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

// reload reads the file again when it changed since the last read.
func (u *Users) reload() error {
	fi, err := os.Stat(u.path)
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	u.mu.Lock()
	same := u.hashes != nil && fi.ModTime().Equal(u.modTime)
	u.mu.Unlock()
	if same {
		return nil
	}
	data, err := os.ReadFile(u.path)
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	hashes, err := ParseUsers(data)
	if err != nil {
		return fmt.Errorf("users file %s: %w", u.path, err)
	}
	u.mu.Lock()
	u.hashes, u.modTime = hashes, fi.ModTime()
	u.mu.Unlock()
	return nil
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

// check reports whether password is user's. A file that became unreadable keeps
// the users last read, so a bad edit does not lock everyone out.
func (u *Users) check(user, password string) (bool, error) {
	err := u.reload()
	u.mu.Lock()
	hash, ok := u.hashes[user]
	u.mu.Unlock()
	if !ok {
		hash = decoyHash
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	return ok && match, err
}

// HashPassword returns the bcrypt hash of password for a users file line.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), 12)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}
