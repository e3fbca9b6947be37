package archive_test

import (
	"context"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
)

// FuzzSearch feeds arbitrary search queries: each must either run or come back
// as ErrBadQuery (a 400 for the admin API), never another error or a panic.
func FuzzSearch(f *testing.F) {
	for _, q := range []string{"H12", "H12 OR R14", `"Request timeout"`, "R1*", "memory_quota", `NEAR("Memory" "exceeded", 1)`,
		"exceeded NOT vastly", `"unterminated`, "(", "AND", "message:H12", "nosuchcolumn:x", "*", "^H12", "{message}: x",
		"日本語", "a\x00b", "\xff", "-", "H12 + R14", `""`, "NEAR(a b, -1)"} {
		f.Add(q)
	}
	a := open(f, archive.Config{})
	write(f, a, entry(1, fixtureRecords(f, "app", received)...))
	f.Fuzz(func(t *testing.T, match string) {
		_, err := a.Search(context.Background(), archive.Query{App: "app", Match: match})
		if err != nil && !errors.Is(err, archive.ErrBadQuery) {
			t.Fatalf("Search(%q) = %v, want nil or ErrBadQuery", match, err)
		}
	})
}

// FuzzRoundTrip stores arbitrary messages and reads them back byte for byte;
// a message whose first word is a plain token must be found by it. Each input
// gets a fresh archive: one shared archive grows and merges its index at
// different moments, so the same input would cover different code each time.
func FuzzRoundTrip(f *testing.F) {
	for _, r := range fixtureRecords(f, "app", received) {
		f.Add(r.Message, r.Dyno)
	}
	f.Add("nul\x00inside", "web.1")
	f.Add("\xff\xfe invalid", "\x00")
	f.Fuzz(func(t *testing.T, msg, dyno string) {
		a := open(t, archive.Config{})
		app := "fuzz"
		rec := drainpipe.Record{App: app, Time: received, Received: received, Source: "app", Dyno: dyno, Message: msg, Priority: 13}
		if err := a.Write(context.Background(), []drainpipe.Entry{entry(1, rec)}); err != nil {
			t.Fatal(err)
		}
		lines, err := a.Tail(context.Background(), app, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != 1 || lines[0].Message != msg || lines[0].Dyno != dyno || !lines[0].Time.Equal(received) {
			t.Fatalf("stored %q/%q, read back %+v", msg, dyno, lines)
		}
		if w := firstWord(msg); w != "" {
			found, err := a.Search(context.Background(), archive.Query{App: app, Match: `"` + w + `"`})
			if err != nil {
				t.Fatalf("Search %q: %v", w, err)
			}
			if len(found) != 1 || found[0].ID != lines[0].ID {
				t.Fatalf("Search %q did not find the line just written: %v", w, found)
			}
		}
	})
}

// firstWord returns the message's first run of ASCII letters and digits when
// it starts the message, a token in every tokenizer.
func firstWord(s string) string {
	n := 0
	for n < len(s) && (s[n] >= 'a' && s[n] <= 'z' || s[n] >= 'A' && s[n] <= 'Z' || s[n] >= '0' && s[n] <= '9') {
		n++
	}
	if n == 0 || n > 200 || (n < len(s) && !isSep(s[n:])) {
		return ""
	}
	return s[:n]
}

// isSep reports whether s starts with an ASCII separator (so the word ends there).
func isSep(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r < utf8.RuneSelf
}
