package drains

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/drainpipe/drainpipe"
	"github.com/nats-io/nats.go/jetstream"
)

// MinAdminTokenLength is the shortest admin token accepted from a file an operator
// wrote: a shorter one could be guessed. Generated tokens are 43 characters.
const MinAdminTokenLength = 16

// AdminToken makes sure the admin token exists and returns the hash that requests
// are checked against.
//
// The token lives in the file at path (mode 0600), for the CLI on this machine; only
// its SHA-256 is stored in the bucket, so other nodes of a cluster check the same
// token without holding it. On first start the token is generated and written to
// path. A file an operator wrote is used as is (surrounding whitespace trimmed), but
// never an empty or short one: that is an error, because its hash would let in
// anyone who sends that guessable token. A node without the file uses the hash the
// first node stored.
func (s *Store) AdminToken(ctx context.Context, path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		return s.adminTokenFromFile(ctx, path, string(raw))
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read admin token: %w", err)
	}
	if stored, err := s.adminTokenHash(ctx); err == nil {
		s.log.Info("the admin token was made by another node; copy its admin-token file here to use the CLI on this machine", "file", path)
		return stored, nil
	} else if !errors.Is(err, drainpipe.ErrNotFound) {
		return nil, err
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(buf)
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write admin token: %w", err)
	}
	tokenWritten()
	stored, created, err := s.initAdminToken(ctx, drainpipe.HashSecret(token))
	if err != nil {
		return nil, err
	}
	if !created {
		// Another node started at the same moment and stored its token first: this
		// one would be refused, so it must not stay in the file for the CLI.
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove the admin token another node's replaced: %w", err)
		}
		s.log.Info("the admin token was made by another node; copy its admin-token file here to use the CLI on this machine", "file", path)
		return stored, nil
	}
	s.log.Info("admin token written", "file", path)
	return stored, nil
}

func (s *Store) adminTokenFromFile(ctx context.Context, path, raw string) ([]byte, error) {
	token := strings.TrimSpace(raw)
	if len(token) < MinAdminTokenLength {
		what := "is empty"
		if token != "" {
			what = fmt.Sprintf("holds a token of %d characters", len(token))
		}
		return nil, fmt.Errorf("the admin token file %s %s: put a token of at least %d random characters in it, or delete it and a token is generated", path, what, MinAdminTokenLength)
	}
	hash := drainpipe.HashSecret(token)
	stored, _, err := s.initAdminToken(ctx, hash)
	if err != nil {
		return nil, err
	}
	if string(stored) != string(hash) {
		s.log.Warn("the admin-token file does not match the admin token this journal was set up with; the file's token will be refused", "file", path)
	}
	return stored, nil
}

// initAdminToken stores hash as the admin token's hash unless one is stored already.
// It returns the stored hash, and whether it was stored by this call.
func (s *Store) initAdminToken(ctx context.Context, hash []byte) ([]byte, bool, error) {
	if _, err := s.kv.Create(ctx, adminTokenKey, hash); err == nil {
		return hash, true, nil
	} else if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, false, fmt.Errorf("store admin token hash: %w", err)
	}
	e, err := s.kv.Get(ctx, adminTokenKey)
	if err != nil {
		return nil, false, fmt.Errorf("read admin token hash: %w", err)
	}
	if string(e.Value()) == string(emptyTokenHash) {
		// Stored from an empty admin-token file by an older drainpipe: it is no
		// secret, so it gives way to a real one.
		if _, err := s.kv.Update(ctx, adminTokenKey, hash, e.Revision()); err != nil {
			return nil, false, fmt.Errorf("replace the empty admin token's hash: %w", err)
		}
		s.log.Warn("the stored admin token was empty (an empty admin-token file, before this was refused); it is replaced by the file's token")
		return hash, true, nil
	}
	return e.Value(), false, nil
}

// tokenWritten runs between writing a new token's file and storing its hash:
// tests make another node store its token there.
var tokenWritten = func() {}

// emptyTokenHash is the hash of the empty token, which is never accepted.
var emptyTokenHash = drainpipe.HashSecret("")

// adminTokenHash returns the stored admin token hash, or drainpipe.ErrNotFound.
func (s *Store) adminTokenHash(ctx context.Context) ([]byte, error) {
	e, err := s.kv.Get(ctx, adminTokenKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, drainpipe.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read admin token hash: %w", err)
	}
	if string(e.Value()) == string(emptyTokenHash) {
		return nil, errors.New("the stored admin token is empty (made from an empty admin-token file): write a token of at least 16 random characters to the admin-token file and restart")
	}
	return e.Value(), nil
}
