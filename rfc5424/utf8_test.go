package rfc5424_test

import (
	"testing"

	"github.com/drainpipe/drainpipe/rfc5424"
)

func TestValidUTF8(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"café ☕", "café ☕"},
		{"caf\xe9", `caf\xe9`},
		{"\xff\xfe", `\xff\xfe`},
		{"\xe2\x98", `\xe2\x98`},         // a truncated rune: each byte on its own
		{"a\x00\x1b[0m", "a\x00\x1b[0m"}, // control bytes are valid UTF-8, kept
		{"\xed\xa0\x80", `\xed\xa0\x80`}, // a surrogate is not valid UTF-8
	}
	for _, tt := range tests {
		if got := rfc5424.ValidUTF8([]byte(tt.in)); got != tt.want {
			t.Errorf("ValidUTF8(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidString(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "plain", "caf\xe9", "\xed\xa0\x80"} {
		if got, want := rfc5424.ValidString(in), rfc5424.ValidUTF8([]byte(in)); got != want {
			t.Errorf("ValidString(%q) = %q, ValidUTF8 = %q", in, got, want)
		}
	}
}
