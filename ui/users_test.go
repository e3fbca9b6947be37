package ui_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe/ui"
)

func TestParseUsers(t *testing.T) {
	good := "$2a$04$AXF0k1ZmKCVKFubYwCFf5uQzwOa3a1WIUKEhcJDF1UNSDlv5AOHKK"
	for _, tc := range []struct {
		name, file string
		users      int
		err        string
	}{
		{"empty", "", 0, ""},
		{"comments and blanks", "# x\n\n  \n", 0, ""},
		{"one", "alice:" + good + "\n", 1, ""},
		{"htpasswd's $2y$", "alice:" + strings.Replace(good, "$2a$", "$2y$", 1), 1, ""},
		{"CRLF", "alice:" + good + "\r\nbob:" + good + "\r\n", 2, ""},
		{"no colon", "alice\n", 0, "line 1: want NAME:BCRYPT-HASH"},
		{"no name", ":" + good, 0, "line 1: want NAME:BCRYPT-HASH"},
		{"not bcrypt", "# c\nalice:{SHA}abc\n", 0, `line 2: the hash of "alice" is not a bcrypt hash`},
		{"twice", "alice:" + good + "\nalice:" + good, 0, `line 2: user "alice" listed twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ui.ParseUsers([]byte(tc.file))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(got) != tc.users {
				t.Fatalf("%d users, %v; want %d", len(got), err, tc.users)
			}
		})
	}
}

func FuzzParseUsers(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "users"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("a:b\n:c\nd"))
	f.Fuzz(func(t *testing.T, data []byte) {
		users, err := ui.ParseUsers(data)
		if err != nil {
			if users != nil {
				t.Fatal("users with an error")
			}
			return
		}
		for name, hash := range users {
			if name == "" || strings.ContainsAny(name, "\n") || len(hash) == 0 {
				t.Fatalf("user %q with hash %q", name, hash)
			}
		}
	})
}

func TestLoadUsersReloads(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users")
	seed, err := os.ReadFile(filepath.Join("testdata", "users"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ui.LoadUsers(path); err != nil {
		t.Fatal(err)
	}
	if _, err := ui.LoadUsers(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing users file was accepted")
	}
	if err := os.WriteFile(path, []byte("alice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ui.LoadUsers(path); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a bad users file: %v", err)
	}
}
