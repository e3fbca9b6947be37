package logsql_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe/logsql"
)

// FuzzTranslate holds Translate to its promises: it never panics; it either
// fails with ErrBadQuery or returns LogsQL that parses and that it keeps as it
// is; and a single word free of LogsQL's structure (quotes, brackets, pipes,
// operators) is always searchable.
func FuzzTranslate(f *testing.F) {
	f.Fuzz(func(t *testing.T, typed string) {
		out, err := logsql.Translate(typed)
		if err != nil {
			if !errors.Is(err, logsql.ErrBadQuery) {
				t.Fatalf("Translate(%q): %v does not wrap ErrBadQuery", typed, err)
			}
		} else {
			if _, err := logstorage.ParseQuery(out); err != nil {
				t.Fatalf("Translate(%q) = %s, which LogsQL refuses: %v", typed, out, err)
			}
			if again, err := logsql.Translate(out); err != nil || again != out {
				t.Fatalf("Translate(%q) = %s, translated again: %s, %v", typed, out, again, err)
			}
		}
		w := plainWord(typed)
		if w == "" {
			return
		}
		if out, err := logsql.Translate(w); err != nil {
			t.Fatalf("Translate(%q) of the word %q: %v", typed, w, err)
		} else if _, err := logstorage.ParseQuery(out); err != nil {
			t.Fatalf("Translate(%q) = %s, which LogsQL refuses: %v", w, out, err)
		}
	})
}

// plainWord is typed without whitespace and LogsQL's structure characters, or ""
// when what remains is an operator.
func plainWord(typed string) string {
	w := strings.Map(func(r rune) rune {
		if strings.ContainsRune("\"'`()[]{}|", r) || r <= ' ' || r == 0x85 || r == 0xA0 || (r >= 0x2000 && r <= 0x200A) ||
			r == 0x1680 || r == 0x2028 || r == 0x2029 || r == 0x202F || r == 0x205F || r == 0x3000 || r == 0x7f {
			return -1
		}
		return r
	}, typed)
	w = strings.TrimLeft(w, "-!")
	switch strings.ToLower(w) {
	case "or", "and", "not", "options", "_time", "_stream", "_stream_id":
		return ""
	}
	if strings.HasPrefix(w, "_time:") || strings.HasPrefix(w, "_stream") {
		return "" // LogsQL's time and stream filters have their own syntax
	}
	return w
}
