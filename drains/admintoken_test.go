package drains_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/drains"
)

func TestAdminTokenGenerated(t *testing.T) {
	t.Parallel()
	n := openNode(t, t.TempDir())
	path := filepath.Join(n.dir, "admin-token")
	hash, err := n.ds.AdminToken(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(raw))
	if len(token) != 43 || !bytes.Equal(hash, drainpipe.HashSecret(token)) {
		t.Fatalf("token %q (%d chars), hash %x: want a 43-character token and its hash", token, len(token), hash)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Fatalf("admin-token mode %v, want 0600", info.Mode().Perm())
	}
	// The same start again, and another node without the file, use the same hash.
	again, err := n.ds.AdminToken(t.Context(), path)
	if err != nil || !bytes.Equal(again, hash) {
		t.Fatalf("second start: %x %v", again, err)
	}
	other, err := n.ds.AdminToken(t.Context(), filepath.Join(t.TempDir(), "admin-token"))
	if err != nil || !bytes.Equal(other, hash) {
		t.Fatalf("node without the file: %x %v", other, err)
	}
}

// TestAdminTokenFromFile: an operator's own token is used, but never one that is
// empty or short enough to guess: the server refuses to start with a sentence.
func TestAdminTokenFromFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		wantErr string
	}{
		{"good", "  an-operator-chosen-token-0123456789\n", ""},
		{"empty", "", "is empty"},
		{"only whitespace", " \n\t\n", "is empty"},
		{"short", "hunter2\n", "holds a token of 7 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := openNode(t, t.TempDir())
			path := filepath.Join(n.dir, "admin-token")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			hash, err := n.ds.AdminToken(t.Context(), path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("err %v, want one naming %s and saying %q", err, path, tt.wantErr)
				}
				if hash != nil {
					t.Fatalf("hash %x returned with the error", hash)
				}
				// Nothing was stored: a later start with a good file sets the token.
				good := "a-later-good-token-0123456789"
				if err := os.WriteFile(path, []byte(good), 0o600); err != nil {
					t.Fatal(err)
				}
				if hash, err := n.ds.AdminToken(t.Context(), path); err != nil || !bytes.Equal(hash, drainpipe.HashSecret(good)) {
					t.Fatalf("later good file: %x %v", hash, err)
				}
				return
			}
			if err != nil || !bytes.Equal(hash, drainpipe.HashSecret(strings.TrimSpace(tt.content))) {
				t.Fatalf("hash %x err %v, want the file's token's hash", hash, err)
			}
		})
	}
}

// TestAdminTokenEmptyHashReplaced: an older drainpipe stored SHA-256("") from an empty
// file. That hash is never kept: a file with a real token replaces it, and a node
// without the file refuses to start instead of accepting an empty token.
func TestAdminTokenEmptyHashReplaced(t *testing.T) {
	t.Parallel()
	n := openNode(t, t.TempDir())
	kv, err := n.j.JetStream().KeyValue(t.Context(), "drainpipe_drains")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(t.Context(), "setting.admin-token-sha256", drainpipe.HashSecret("")); err != nil {
		t.Fatal(err)
	}
	if _, err := n.ds.AdminToken(t.Context(), filepath.Join(t.TempDir(), "admin-token")); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("node without a file over an empty stored token: %v, want an error", err)
	}
	path := filepath.Join(n.dir, "admin-token")
	good := "replacement-token-0123456789"
	if err := os.WriteFile(path, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	hash, err := n.ds.AdminToken(t.Context(), path)
	if err != nil || !bytes.Equal(hash, drainpipe.HashSecret(good)) {
		t.Fatalf("file over an empty stored token: %x %v, want the file's hash", hash, err)
	}
	other, err := drains.Open(t.Context(), drains.Config{JetStream: n.j.JetStream()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if hash, err := other.AdminToken(t.Context(), filepath.Join(t.TempDir(), "admin-token")); err != nil || !bytes.Equal(hash, drainpipe.HashSecret(good)) {
		t.Fatalf("other node: %x %v, want the replaced hash", hash, err)
	}
}

// TestAdminTokenRace: a node that makes a token while another node of the
// cluster stores its own first checks requests against the other's, and keeps
// no file of a token that would be refused.
func TestAdminTokenRace(t *testing.T) {
	n := openNode(t, t.TempDir())
	first := filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(first, []byte("the-first-nodes-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	drains.SetTokenWritten(t, func() {
		if _, err := n.ds.AdminToken(t.Context(), first); err != nil {
			t.Error(err)
		}
	})
	late := filepath.Join(t.TempDir(), "admin-token")
	hash, err := n.ds.AdminToken(t.Context(), late)
	if err != nil {
		t.Fatal(err)
	}
	if want := drainpipe.HashSecret("the-first-nodes-token-0123456789"); !bytes.Equal(hash, want) {
		t.Fatalf("the late node checks against %x, want the first node's %x", hash, want)
	}
	if _, err := os.Stat(late); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the late node keeps a token that is refused (stat: %v)", err)
	}
}
