package query_test

import (
	"testing"

	"github.com/drainpipe/drainpipe/archive/query"
)

func TestPosition(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"1714557600123456789-42", true}, {"-5-1", true}, {"0-0", true}, {"-9223372036854775808--9223372036854775808", true},
		{"", false}, {"12", false}, {"12-", false}, {"a-b", false}, {"1-2-3", false}, {"01-2", false}, {"1-2 ", false}, {"99999999999999999999-1", false},
	} {
		p, err := query.ParsePosition(tt.in)
		if (err == nil) != tt.ok || err == nil && p.String() != tt.in {
			t.Errorf("ParsePosition(%q) = %v, %v", tt.in, p, err)
		}
	}
	if !(query.Position{Time: 1, ID: 9}).Before(query.Position{Time: 2, ID: 1}) || !(query.Position{Time: 1, ID: 1}).Before(query.Position{Time: 1, ID: 2}) ||
		(query.Position{Time: 1, ID: 2}).Before(query.Position{Time: 1, ID: 2}) {
		t.Error("Before does not order by time, then id")
	}
}

// FuzzParsePosition: a cursor from a stranger never panics the server, and one
// that parses is what its position prints.
func FuzzParsePosition(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := query.ParsePosition(s); err == nil && p.String() != s {
			t.Fatalf("ParsePosition(%q) = %v, which prints %q", s, p, p.String())
		}
	})
}
