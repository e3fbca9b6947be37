package alert_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe/alert"
)

func TestSealer(t *testing.T) {
	key := bytes.Repeat([]byte{7}, alert.KeySize)
	s, err := alert.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	secret := "pagerduty://R0UT1NGKEY0123456789abcdefabcdef"
	a, err := s.Seal(secret)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Seal(secret)
	if a == b || strings.Contains(a, "R0UT1NG") || !strings.HasPrefix(a, "v1.") {
		t.Fatalf("sealed forms %q, %q", a, b)
	}
	if got, err := s.Open(a); err != nil || got != secret {
		t.Fatalf("open: %q, %v", got, err)
	}
	other, _ := alert.NewSealer(bytes.Repeat([]byte{8}, alert.KeySize))
	tampered := a[:len(a)-2] + "AA"
	for _, tc := range []struct {
		name string
		s    *alert.Sealer
		v    string
	}{{"other key", other, a}, {"tampered", s, tampered}, {"not sealed", s, secret}, {"empty", s, ""}, {"no prefix", s, a[3:]}} {
		got, err := tc.s.Open(tc.v)
		if err == nil || got != "" || strings.Contains(err.Error(), "R0UT1NG") {
			t.Errorf("%s: %q, %v", tc.name, got, err)
		}
	}
	if _, err := alert.NewSealer(key[:16]); err == nil {
		t.Error("a 16-byte key was taken")
	}
}
