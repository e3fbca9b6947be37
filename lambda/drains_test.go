package lambda_test

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/lambda"
)

func hashOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestParseDrains: the text form is read whole or refused with a sentence
// naming the entry; a function never starts with half its drains.
func TestParseDrains(t *testing.T) {
	t.Parallel()
	h1, h2 := hashOf("one"), hashOf("two")
	for _, tc := range []struct {
		text    string
		want    int
		wantErr string
	}{
		{"", 0, ""},
		{"myapp:d_abc:" + h1, 1, ""},
		{"myapp:d_abc:" + h1 + ",other:d_def:" + h2, 2, ""},
		{"\n myapp:d_abc:" + h1 + "\n\tmyapp:d_def:" + h2 + "\n", 2, ""}, // one per line; two drains of one app
		{"myapp:d_abc", 0, "want app:id:hash"},
		{"MyApp:d_abc:" + h1, 0, `app "MyApp"`},
		{"myapp:abc:" + h1, 0, `id "abc"`},
		{"myapp:d_abc:" + h1[:40], 0, "hash"},
		{"myapp:d_abc:" + strings.ReplaceAll(h1, h1[:1], "+"), 0, "hash"},
		{"myapp:d_abc:" + h1 + ",other:d_abc:" + h2, 0, "already the id of app myapp"},
		{"myapp:d_abc:" + h1 + ",other:d_def:" + h1, 0, "same secret"},
		{"a:d_1:x,b:d_2", 0, "drain 1: app a: hash"},
	} {
		d, err := lambda.ParseDrains(tc.text)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%.30q: err %v, want %q", tc.text, err, tc.wantErr)
			}
			continue
		}
		if err != nil || len(d.List()) != tc.want {
			t.Errorf("%.30q: %v, %v", tc.text, d, err)
		}
	}
}

// TestDrainsAuthenticateAddRemove: the secret authenticates its drain and
// nothing else; adding makes a fresh id and secret; the text form holds no
// secret and reads back the same.
func TestDrainsAuthenticateAddRemove(t *testing.T) {
	t.Parallel()
	d, _ := lambda.ParseDrains("")
	a1, s1, err := d.Add("myapp", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a2, s2, _ := d.Add("myapp", time.Now()) // a second drain: rotation
	b, sb, _ := d.Add("other", time.Now())
	if _, _, err := d.Add("Bad_App", time.Now()); err == nil {
		t.Error("bad app name accepted")
	}
	text := d.String()
	for _, s := range []string{s1, s2, sb} {
		if strings.Contains(text, s) {
			t.Fatalf("the text form holds a secret: %s", text)
		}
	}
	back, err := lambda.ParseDrains(text)
	if err != nil || back.String() != text {
		t.Fatalf("text form does not read back: %v\n%s\n%s", err, text, back)
	}
	for _, tc := range []struct{ secret, id string }{{s1, a1.ID}, {s2, a2.ID}, {sb, b.ID}, {"nope", ""}, {"", ""}} {
		got, ok := back.Authenticate(tc.secret)
		if ok != (tc.id != "") || got.ID != tc.id {
			t.Errorf("Authenticate(%.6q) = %s %v, want %q", tc.secret, got.ID, ok, tc.id)
		}
	}
	if gone := back.Remove("myapp"); len(gone) != 2 {
		t.Errorf("removed %d drains of myapp, want 2", len(gone))
	}
	if _, ok := back.Authenticate(s1); ok {
		t.Error("a removed drain still authenticates")
	}
	if gone := back.Remove(b.ID); len(gone) != 1 || back.String() != "" {
		t.Errorf("remove by id: %d, left %q", len(gone), back)
	}
}

// FuzzParseDrains: any text either parses, and then its text form reads back
// to the same drains, or is refused; never a panic.
func FuzzParseDrains(f *testing.F) {
	f.Add("myapp:d_abc:" + hashOf("one") + ",other:d_def:" + hashOf("two"))
	f.Add("a:d_1:" + hashOf("x") + "\n")
	f.Add(":::,,,")
	f.Fuzz(func(t *testing.T, text string) {
		d, err := lambda.ParseDrains(text)
		if err != nil {
			return
		}
		back, err := lambda.ParseDrains(d.String())
		if err != nil || back.String() != d.String() || len(back.List()) != len(d.List()) {
			t.Fatalf("%q: text form %q does not read back: %v", text, d.String(), err)
		}
	})
}
