package journal

import (
	"math/bits"
	"sync"
)

// Encoding buffers are reused: a piece's encoded batch, free once its message
// is built, and a message's data, free once the server has answered it. Under
// load they were a sixth of everything the process allocated (with every sink
// on, docs/benchmarks.md), and what is allocated while the collector marks
// raises the peak of a process held at its memory limit. A sync.Pool gives
// them back to the collector when they are not wanted.
//
// Buffers come in powers of two, from 4 KiB to 8 MiB (a message is at most
// Config.MaxMessageBytes and its headers); other sizes are allocated and left
// to the collector.
var bufPools [maxBufClass + 1]sync.Pool

const (
	minBufClass = 12
	maxBufClass = 23
)

// getBuf returns an empty buffer with room for n bytes.
func getBuf(n int) []byte {
	c := max(bits.Len(uint(max(n, 1)-1)), minBufClass)
	if c > maxBufClass {
		return make([]byte, 0, n)
	}
	if p, _ := bufPools[c].Get().(*[]byte); p != nil {
		return (*p)[:0]
	}
	return make([]byte, 0, 1<<c)
}

// putBuf gives b back for reuse. Its caller must hold no other reference to it.
func putBuf(b []byte) {
	c := bits.Len(uint(cap(b))) - 1
	if c < minBufClass || c > maxBufClass || cap(b) != 1<<c {
		return
	}
	b = b[:0]
	bufPools[c].Put(&b)
}
