package archive_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
)

// FuzzSearch feeds arbitrary search queries: each must either run or come
// back as ErrBadQuery (a 400 for the admin API), never another error or a panic.
func FuzzSearch(f *testing.F) {
	for _, q := range []string{"H12", "H12 OR R14", `"Request timeout"`, "R1*", "status:=503", "status:>500", `i(h12)`,
		`path:="/slow"*`, `"unterminated`, "(", "AND", "_msg:H12", "nosuchfield:x", "*", "~\"^H1\"", "{app=\"x\"}",
		"日本語", "a\x00b", "\xff", "-", "| stats count()", `""`, "_time:1h", "_time:[2020-01-01Z, 2021-01-01Z)", "x | limit 1"} {
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

var fuzzApp atomic.Int64

// FuzzRoundTrip stores arbitrary messages, dynos and attributes and reads them
// back byte for byte: whatever the message holds, every field the record had
// comes back, and the fields read out of it stay within their caps.
func FuzzRoundTrip(f *testing.F) {
	for _, r := range fixtureRecords(f, "app", received) {
		f.Add(r.Message, r.Dyno, "trace_id", "abc")
	}
	f.Add("nul\x00inside k=v", "web.1", "", "")
	f.Add("\xff\xfe invalid a=\xff", "\x00", "_x", "\xff")
	f.Add(strings.Repeat("k=v ", 100), "web.1", "dyno", "x")
	f.Add(`"quoted" =v x="y\"z" `, "", "attrs", "[]")
	a := open(f, archive.Config{})
	f.Fuzz(func(t *testing.T, msg, dyno, key, value string) {
		app := fmt.Sprintf("fuzz%d", fuzzApp.Add(1))
		rec := drainpipe.Record{App: app, Time: received, Received: received, Source: "app", Dyno: dyno, Message: msg, Priority: 13}
		if key != "" {
			rec.Attrs = []drainpipe.Attr{{Key: key, Value: value}}
		}
		if err := a.Write(context.Background(), []drainpipe.Entry{entry(uint64(fuzzApp.Add(1)), rec)}); err != nil {
			t.Fatal(err)
		}
		lines, err := a.Tail(context.Background(), app, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != 1 || lines[0].Message != msg || lines[0].Dyno != dyno || !lines[0].Time.Equal(received) {
			t.Fatalf("stored %q/%q, read back %+v", msg, dyno, lines)
		}
		if len(lines[0].Fields) > archive.MaxMessageFields {
			t.Fatalf("%d message fields, over the cap", len(lines[0].Fields))
		}
		for _, at := range lines[0].Attrs {
			if at.Key != key || at.Value != value {
				t.Fatalf("attribute %q=%q read back as %q=%q", key, value, at.Key, at.Value)
			}
		}
		if len(lines[0].Attrs) == 0 && key != "" && validKey(key) && utf8.ValidString(value) && len(value) <= archive.MaxAttrValueLen {
			t.Fatalf("attribute %q=%q was not stored", key, value)
		}
	})
}

// validKey is the rule the package doc gives for field names.
func validKey(k string) bool {
	if k == "" || len(k) > archive.MaxKeyLen {
		return false
	}
	for i, c := range []byte(k) {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		other := c >= '0' && c <= '9' || strings.IndexByte(".#@:/-", c) >= 0
		if !letter && (i == 0 || !other) {
			return false
		}
	}
	return true
}
