package ui_test

import (
	"bufio"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestUsersFileEditsEndSessions: removing a user from the users file, or changing
// their password, ends their sessions at their next request, pages and API alike;
// the other users' sessions and the admin token's live on.
func TestUsersFileEditsEndSessions(t *testing.T) {
	seed, err := os.ReadFile(filepath.Join("testdata", "users"))
	if err != nil {
		t.Fatal(err)
	}
	hashes, err := ui.ParseUsers(seed)
	if err != nil {
		t.Fatal(err)
	}
	alice := "alice:" + string(hashes["alice"]) + "\n"
	const bobPassword, alicePassword = "tr0ub4dor&3 and more", "correct horse battery"
	for _, tc := range []struct {
		name, file string
		// bobLogsIn is the password bob logs in with afterwards, if any.
		bobLogsIn string
	}{
		{"bob removed", alice, ""},
		// bob's new hash is alice's: his password is now hers.
		{"bob's password changed", alice + "bob:" + string(hashes["alice"]) + "\n", alicePassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, users := testUsers(t)
			srv, _ := newServer(t, ui.Config{Users: users})
			bob, others := browserClient(), map[string]*http.Client{"alice": browserClient(), "the admin token": browserClient()}
			login(t, bob, srv.URL, "bob", bobPassword)
			login(t, others["alice"], srv.URL, "alice", alicePassword)
			login(t, others["the admin token"], srv.URL, "", adminToken)
			if resp, _ := get(t, bob, srv.URL+"/ui/session"); resp.StatusCode != http.StatusOK {
				t.Fatalf("bob's session before the edit: %d", resp.StatusCode)
			}

			editUsers(t, path, tc.file)
			waitFor(t, 5*time.Second, "bob's session to end", func() bool {
				resp, _ := get(t, bob, srv.URL+"/ui/session")
				return resp.StatusCode == http.StatusUnauthorized
			})
			if resp, body := get(t, bob, srv.URL+"/ui/api/drains"); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not logged in") {
				t.Errorf("bob's API request after the edit: %d %s", resp.StatusCode, body)
			}
			if resp, _ := get(t, bob, srv.URL+"/ui/system"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/login") {
				t.Errorf("bob's page after the edit: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			for who, c := range others {
				if resp, _ := get(t, c, srv.URL+"/ui/session"); resp.StatusCode != http.StatusOK {
					t.Errorf("the session of %s after the edit: %d", who, resp.StatusCode)
				}
			}
			if resp, _ := login(t, browserClient(), srv.URL, "bob", bobPassword); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("bob's old password after the edit: %d", resp.StatusCode)
			}
			if tc.bobLogsIn != "" {
				if resp, _ := login(t, bob, srv.URL, "bob", tc.bobLogsIn); resp.StatusCode != http.StatusSeeOther {
					t.Errorf("bob's new password: %d", resp.StatusCode)
				}
				if resp, _ := get(t, bob, srv.URL+"/ui/session"); resp.StatusCode != http.StatusOK {
					t.Errorf("bob's new session: %d", resp.StatusCode)
				}
			}
		})
	}
}

// TestUsersFileEditEndsALiveTail: a live tail open when its user is removed from
// the users file gets its "expired" event at its next poll.
func TestUsersFileEditEndsALiveTail(t *testing.T) {
	api := newTestAPI(t)
	api.writeLine(t, "shop", "the first line")
	path, users := testUsers(t)
	srv, _ := newServer(t, ui.Config{Users: users, API: api.handler})
	bob := browserClient()
	login(t, bob, srv.URL, "bob", "tr0ub4dor&3 and more")
	// after=0 resumes from the start: the stream follows without a backfill.
	resp, err := bob.Get(srv.URL + "/ui/stream?app=shop&after=0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("open the tail: %d", resp.StatusCode)
	}
	lines, done := make(chan string), make(chan struct{})
	defer close(done)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-done:
				return
			}
		}
	}()
	await := func(want string) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the stream ended before %s", want)
				}
				if strings.Contains(l, want) {
					return
				}
			case <-deadline:
				t.Fatalf("after 5s: no %s on the stream", want)
			}
		}
	}
	await("the first line")
	editUsers(t, path, "# bob is gone\n")
	api.writeLine(t, "shop", "a line that wakes the tail")
	await("event: expired")
}

// testUsers copies testdata/users (alice and bob) to a file of the test's and
// loads it.
func testUsers(t *testing.T) (string, *ui.Users) {
	t.Helper()
	seed, err := os.ReadFile(filepath.Join("testdata", "users"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(path, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	users, err := ui.LoadUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, users
}

// editUsers writes the users file at path as an edit made later would: the
// file is told changed by its modification time and size, and a hash of the
// same length written within the file system's time granularity would not be.
func editUsers(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}

// TestWrongLoginSays: a refused login names what the form asked for: the admin
// token alone, or with --ui-users a name and password too.
func TestWrongLoginSays(t *testing.T) {
	t.Parallel()
	_, users := testUsers(t)
	for _, tc := range []struct {
		name string
		cfg  ui.Config
		says string
	}{
		{"token only", ui.Config{}, "Wrong admin token."},
		{"with users", ui.Config{Users: users}, "Wrong name, password or token."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := newServer(t, tc.cfg)
			c := browserClient()
			_, page := get(t, c, srv.URL+"/ui/login")
			m := csrfField.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no csrf field on the login page:\n%s", page)
			}
			resp, body := postForm(t, c, srv.URL+"/ui/login", url.Values{"csrf": {m[1]}, "password": {"wrong"}}, nil)
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, tc.says) {
				t.Errorf("%d, want 401 saying %q:\n%s", resp.StatusCode, tc.says, body)
			}
		})
	}
}
