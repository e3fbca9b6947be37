package journal

import "testing"

func TestBufferSizes(t *testing.T) {
	for _, tc := range []struct {
		n, cap int
	}{
		{0, 4 << 10},
		{1, 4 << 10},
		{4 << 10, 4 << 10},
		{4<<10 + 1, 8 << 10},
		{100_000, 128 << 10},
		{4 << 20, 4 << 20},
		{8 << 20, 8 << 20},
		{8<<20 + 1, 8<<20 + 1}, // past the largest class: exactly what was asked
	} {
		b := getBuf(tc.n)
		if len(b) != 0 || cap(b) != tc.cap {
			t.Errorf("getBuf(%d): len %d cap %d, want 0 and %d", tc.n, len(b), cap(b), tc.cap)
		}
		putBuf(append(b, 'x'))
	}
	// What comes back is empty, whatever was in it, and big enough.
	for range 100 {
		if b := getBuf(100_000); len(b) != 0 || cap(b) < 100_000 {
			t.Fatalf("getBuf after putBuf: len %d cap %d", len(b), cap(b))
		}
	}
	// A buffer of another capacity is not kept (it would be handed out too small).
	putBuf(make([]byte, 10, 100_000))
	if b := getBuf(100_000); cap(b) < 100_000 {
		t.Fatalf("getBuf returned cap %d", cap(b))
	}
}
