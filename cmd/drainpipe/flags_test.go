package main

import "testing"

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{"8MiB": 8 << 20, "4GiB": 4 << 30, "100KB": 100_000, "1048576": 1 << 20, "0": 0, "2 MiB": 2 << 20} {
		var b byteSize
		if err := b.Set(in); err != nil || b.n != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, b.n, err, want)
		}
	}
	for _, in := range []string{"", "-1", "MiB", "1.5GiB", "ten"} {
		var b byteSize
		if err := b.Set(in); err == nil {
			t.Errorf("Set(%q) accepted", in)
		}
	}
}

// FuzzByteSize: a size flag either parses to a non-negative number or is refused
// with a message; it never panics.
func FuzzByteSize(f *testing.F) {
	for _, s := range []string{"8MiB", "4GiB", "100KB", "1048576", "-5", "99999999999999999999TiB", "1 B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b byteSize
		if err := b.Set(s); err == nil && b.n < 0 {
			t.Fatalf("Set(%q) = %d", s, b.n)
		}
	})
}
