package heroku_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe/heroku"
)

func TestAPIKeyFromEnv(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		env   string // HEROKU_API_KEY
		netrc *string
		want  string
		err   string // substring of the error, "" for none
	}{
		{name: "env wins over netrc", env: "env-key", netrc: ptr("machine api.heroku.com login a@b.c password file-key\n"), want: "env-key"},
		{name: "env trimmed", env: "  env-key\n", want: "env-key"},
		{name: "what heroku login writes", netrc: ptr(
			"machine api.heroku.com\n  login me@example.com\n  password 01234567-89ab-cdef-0123-456789abcdef\n" +
				"machine git.heroku.com\n  login me@example.com\n  password 01234567-89ab-cdef-0123-456789abcdef\n"),
			want: "01234567-89ab-cdef-0123-456789abcdef"},
		{name: "single line", netrc: ptr("machine api.heroku.com login me password k1"), want: "k1"},
		{name: "other machines first", netrc: ptr("machine github.com login x password gh\nmachine api.heroku.com login me password k2\n"), want: "k2"},
		{name: "tabs and CRLF", netrc: ptr("machine\tapi.heroku.com\r\n\tlogin me\r\n\tpassword k3\r\n"), want: "k3"},
		{name: "password before login", netrc: ptr("machine api.heroku.com password k4 login me"), want: "k4"},
		{name: "account ignored", netrc: ptr("machine api.heroku.com login me account acct password k5"), want: "k5"},
		{name: "first entry wins", netrc: ptr("machine api.heroku.com password first\nmachine api.heroku.com password second\n"), want: "first"},
		{name: "default used when no machine", netrc: ptr("machine github.com password gh\ndefault login anonymous password dflt\n"), want: "dflt"},
		{name: "machine beats default wherever it is", netrc: ptr("default password dflt\nmachine api.heroku.com password k6\n"), want: "k6"},
		{name: "comments", netrc: ptr("# written by heroku login\nmachine api.heroku.com # the API\n  login me\n  password k7 # trailing\n"), want: "k7"},
		{name: "hash inside a password is not a comment", netrc: ptr("machine api.heroku.com password #k8#\n"), want: "#k8#"},
		{name: "quotes are ordinary characters", netrc: ptr(`machine api.heroku.com password "k9"`), want: `"k9"`},
		{name: "macdef body skipped", netrc: ptr("macdef init\nmachine api.heroku.com password fake\n\nmachine api.heroku.com password k10\n"), want: "k10"},
		{name: "entry goes on after its macdef", netrc: ptr("machine api.heroku.com login x\nmacdef m\ncd /\n\npassword k11\n"), want: "k11"},
		{name: "line numbers count macro lines", netrc: ptr("macdef m\ncd /\nls\n\npassword stray\n"), err: "line 5: password before any machine"},
		{name: "machine name not a prefix match", netrc: ptr("machine api.heroku.com.evil.example password bad\n"), err: "has no password for api.heroku.com"},
		{name: "login only", netrc: ptr("machine api.heroku.com login me\n"), err: "has no password for api.heroku.com"},
		{name: "empty file", netrc: ptr(""), err: "has no password"},
		{name: "no file", err: "does not exist"},
		{name: "machine without name", netrc: ptr("machine"), err: "line 1: machine without a name"},
		{name: "password without value", netrc: ptr("machine api.heroku.com\npassword"), err: "line 2: password without a value"},
		{name: "unknown word", netrc: ptr("machine api.heroku.com password my secret\n"), err: "line 1: unexpected word"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), ".netrc")
			if tc.netrc != nil {
				if err := os.WriteFile(path, []byte(*tc.netrc), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			getenv := func(k string) string {
				if k == "HEROKU_API_KEY" {
					return tc.env
				}
				return ""
			}
			got, err := heroku.APIKeyFromEnv(getenv, path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %q, %v; want error containing %q", got, err, tc.err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error echoes file content: %v", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestAPIKeyFromEnvNamesBothPlaces(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), ".netrc")
	_, err := heroku.APIKeyFromEnv(func(string) string { return "" }, path)
	if !errors.Is(err, heroku.ErrNoAPIKey) {
		t.Fatalf("err = %v, want ErrNoAPIKey", err)
	}
	for _, want := range []string{"HEROKU_API_KEY", path, "heroku login"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := heroku.APIKeyFromEnv(func(string) string { return "" }, ""); !errors.Is(err, heroku.ErrNoAPIKey) {
		t.Errorf("no netrc path: %v", err)
	}
}

func TestAPIKeyFromEnvUnreadableNetrc(t *testing.T) {
	t.Parallel()
	dir := t.TempDir() // a directory cannot be read as a file
	_, err := heroku.APIKeyFromEnv(func(string) string { return "" }, dir)
	if err == nil || errors.Is(err, heroku.ErrNoAPIKey) {
		t.Fatalf("err = %v, want a read error", err)
	}
}

func ptr(s string) *string { return &s }
