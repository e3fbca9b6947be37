package heroku

import (
	"strings"
	"testing"
)

// FuzzNetrc is white-box: the parser is unexported, and going through a file per
// input would fuzz the file system instead.
func FuzzNetrc(f *testing.F) {
	for _, s := range []string{
		"machine api.heroku.com\n  login me@example.com\n  password 0123\n",
		"machine api.heroku.com login me password k1",
		"default login anonymous password x\n",
		"# c\nmachine a password b # c\nmacdef m\nls\n\nmachine api.heroku.com password k\n",
		"macdef", "machine", "password", "\r\n\t",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		key, err := netrcPassword(text, apiHost)
		if err != nil && key != "" {
			t.Fatalf("key %q with error %v", key, err)
		}
		if strings.ContainsAny(key, " \t\r\n") {
			t.Fatalf("key %q holds whitespace", key)
		}
		if key != "" && !strings.Contains(text, key) {
			t.Fatalf("key %q is not in the file", key)
		}
	})
}
