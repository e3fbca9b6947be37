package ui

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"sync"
	"time"
)

// session is one logged-in browser.
type session struct {
	user string
	// csrf is the token every change this session makes must carry.
	csrf     string
	created  time.Time
	lastSeen time.Time
	// hash is the users file's bcrypt hash the password matched; nil for the
	// admin token. The session ends when the file no longer holds it.
	hash []byte
}

// sessions holds the logged-in browsers in memory: a restart logs everyone out,
// which for an admin tool of one node is a fair price for storing nothing on disk.
// Sessions are keyed by the SHA-256 of their cookie value, so the map never holds
// a usable credential and a lookup compares hashes, not secrets.
type sessions struct {
	mu   sync.Mutex
	byID map[[sha256.Size]byte]*session
	// ttl is a session's whole life, idle how long it lives without a request.
	ttl, idle time.Duration
	max       int
	now       func() time.Time
	// users is the users file (nil without one): a session whose user it no
	// longer lists, or lists with another password, is over.
	users *Users
	log   *slog.Logger
	// usersErr is the users file's error last logged, so a bad edit is logged
	// once rather than at every request.
	usersErr string
}

func newSessions(ttl, idle time.Duration, maxSessions int, now func() time.Time, users *Users, log *slog.Logger) *sessions {
	return &sessions{byID: make(map[[sha256.Size]byte]*session), ttl: ttl, idle: idle, max: maxSessions, now: now, users: users, log: log}
}

// randomToken returns 256 random bits, URL-safe base64.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session for user, who logged in with the users file's hash
// (nil for the admin token), and returns its cookie value. When the store is
// full it first forgets expired sessions, then the least recently used one.
func (s *sessions) create(user string, hash []byte) (string, *session) {
	id := randomToken()
	now := s.now()
	sess := &session{user: user, csrf: randomToken(), created: now, lastSeen: now, hash: hash}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byID) >= s.max {
		s.sweepLocked(now)
	}
	if len(s.byID) >= s.max {
		s.evictOldestLocked()
	}
	s.byID[sha256.Sum256([]byte(id))] = sess
	return id, sess
}

// get returns the live session of cookie value id and marks it used; nil when
// there is none or it expired.
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	s.refreshUsers()
	key := sha256.Sum256([]byte(id))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.byID[key]
	if sess == nil {
		return nil
	}
	if s.expired(sess, now) {
		delete(s.byID, key)
		return nil
	}
	sess.lastSeen = now
	cp := *sess
	return &cp
}

// alive reports whether cookie value id still names a live session, without
// marking it used.
func (s *sessions) alive(id string) bool {
	s.refreshUsers()
	key := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.byID[key]
	return sess != nil && !s.expired(sess, s.now())
}

// expired reports whether sess is over: past its TTL, idle too long, or its
// password no longer the users file's.
func (s *sessions) expired(sess *session, now time.Time) bool {
	return now.Sub(sess.created) >= s.ttl || now.Sub(sess.lastSeen) >= s.idle || s.revoked(sess)
}

// revoked reports whether sess logged in with a password the users file no
// longer holds: the user was removed, or their password changed.
func (s *sessions) revoked(sess *session) bool {
	if sess.hash == nil || s.users == nil {
		return false
	}
	hash, ok := s.users.hash(sess.user)
	return !ok || !bytes.Equal(hash, sess.hash)
}

// refreshUsers reads the users file again when it changed, so that its edits
// reach the sessions at their next request (an open live tail checks between
// polls). A file that cannot be read keeps the users last read.
func (s *sessions) refreshUsers() {
	if s.users == nil {
		return
	}
	err := s.users.reload()
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	s.mu.Lock()
	changed := msg != s.usersErr
	s.usersErr = msg
	s.mu.Unlock()
	if changed && err != nil {
		s.log.Error("ui users file: keeping the users last read", "err", err)
	}
}

// end forgets the session of cookie value id.
func (s *sessions) end(id string) {
	key := sha256.Sum256([]byte(id))
	s.mu.Lock()
	delete(s.byID, key)
	s.mu.Unlock()
}

func (s *sessions) sweepLocked(now time.Time) {
	for k, sess := range s.byID {
		if s.expired(sess, now) {
			delete(s.byID, k)
		}
	}
}

func (s *sessions) evictOldestLocked() {
	var oldest [sha256.Size]byte
	var found bool
	var at time.Time
	for k, sess := range s.byID {
		if !found || sess.lastSeen.Before(at) {
			oldest, at, found = k, sess.lastSeen, true
		}
	}
	delete(s.byID, oldest)
}

// count is the number of sessions held, expired ones included until swept.
func (s *sessions) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}
