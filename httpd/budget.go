package httpd

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"
)

// bodyBudget caps the bytes of request bodies held at once, across every
// connection: each request holds its body buffer's capacity from before the
// first byte is read until it is answered, so what the bodies, their parsed
// records and their journal encodings cost together is a small multiple of the
// budget, whatever the number of connections. The cap is on concurrency as much
// as on bytes: a request waiting for room has read nothing, so its body waits in
// the kernel's socket buffers, not in the heap.
//
// A request takes room for its announced length (or a first buffer when the
// length is unknown), waiting in line (FIFO: a large body is not starved by small
// ones) until its context ends. A body that outgrows its room takes more if some
// is free at once; if not, it waits for the reserve: room for one whole body
// (MaxBody), on top of the shared room, that one request at a time may use to
// finish. A body announced larger than the whole shared room goes to the reserve
// at once. No request ever waits for room while holding the reserve, so requests
// that hold room and wait for more always make progress: one at a time through
// the reserve. So the shared room can be far smaller than the largest body, and
// the bytes held never exceed the shared room plus the reserve.
type bodyBudget struct {
	shared     *semaphore.Weighted // sharedLen
	reserve    *semaphore.Weighted // weight 1: the one request growing into it
	sharedLen  int64
	reserveLen int64 // the largest buffer a body needs (MaxBody+1)
	used, peak atomic.Int64
	refused    prometheus.Counter
}

// newBodyBudget makes a budget of shared bytes (at least one first buffer) for
// bodies of at most maxBuf bytes each, plus the reserve of maxBuf.
func newBodyBudget(shared, maxBuf int64, reg prometheus.Registerer) *bodyBudget {
	shared = max(shared, initialBuf)
	b := &bodyBudget{shared: semaphore.NewWeighted(shared), reserve: semaphore.NewWeighted(1),
		sharedLen: shared, reserveLen: maxBuf,
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drainpipe_receiver_body_budget_refused_total",
			Help: "Drain requests answered 503 because the bytes of bodies in flight stayed at --max-body-in-flight."}),
	}
	if reg != nil {
		reg.MustRegister(b.refused,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "drainpipe_receiver_body_bytes_in_flight",
				Help: "Bytes of request body buffers held by requests being read, parsed or journaled."},
				func() float64 { return float64(b.used.Load()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "drainpipe_receiver_body_bytes_in_flight_peak",
				Help: "The most bytes of request body buffers held at once since the start (at most drainpipe_receiver_body_bytes_in_flight_max)."},
				func() float64 { return float64(b.peak.Load()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "drainpipe_receiver_body_bytes_in_flight_max",
				Help: "The cap on bytes of request body buffers held at once: --max-body-in-flight, plus room for one body of up to --max-body."},
				func() float64 { return float64(b.sharedLen + b.reserveLen) }))
	}
	return b
}

// take waits until ctx ends for n bytes of room (n at most reserveLen): of the
// shared room, or the reserve when n is more than the shared room can ever give.
// It reports whether the reserve was taken.
func (b *bodyBudget) take(ctx context.Context, n int64) (reserve bool, err error) {
	if n > b.sharedLen {
		return b.takeReserve(ctx)
	}
	if err := b.shared.Acquire(ctx, n); err != nil {
		b.refused.Inc()
		return false, err
	}
	b.count(n)
	return false, nil
}

// more takes n more bytes of shared room if they are free now, else waits for the
// reserve until ctx ends; it reports whether the reserve was taken.
func (b *bodyBudget) more(ctx context.Context, n int64) (reserve bool, err error) {
	if b.shared.TryAcquire(n) {
		b.count(n)
		return false, nil
	}
	return b.takeReserve(ctx)
}

// takeReserve waits for the reserve until ctx ends; it reports whether it got it.
func (b *bodyBudget) takeReserve(ctx context.Context) (bool, error) {
	if err := b.reserve.Acquire(ctx, 1); err != nil {
		b.refused.Inc()
		return false, err
	}
	b.count(b.reserveLen)
	return true, nil
}

// count adds n bytes held, and keeps the peak.
func (b *bodyBudget) count(n int64) {
	used := b.used.Add(n)
	for p := b.peak.Load(); used > p && !b.peak.CompareAndSwap(p, used); p = b.peak.Load() {
	}
}

// release gives back n bytes of shared room, and the reserve if it was taken.
func (b *bodyBudget) release(n int64, reserve bool) {
	b.used.Add(-n)
	b.shared.Release(n)
	if reserve {
		b.used.Add(-b.reserveLen)
		b.reserve.Release(1)
	}
}

// Body buffers are recycled in size classes (128 KiB, 256 KiB, 512 KiB, 1 MiB),
// so a small body never holds a large buffer (nor its room in the budget). A
// buffer larger than poolMax, for a large body, is left to the collector.
const (
	initialBuf = 128 << 10
	poolMax    = 1 << 20
	classes    = 4 // initialBuf << (classes-1) == poolMax
)

var bufPools [classes]sync.Pool

// getBuffer returns an empty buffer of at least n bytes: a pooled one of the
// smallest class that fits, or one of n bytes exactly above poolMax.
func getBuffer(n int64) *[]byte {
	for i := range classes {
		size := int64(initialBuf) << i
		if n > size {
			continue
		}
		if b, ok := bufPools[i].Get().(*[]byte); ok {
			return b
		}
		b := make([]byte, 0, size)
		return &b
	}
	b := make([]byte, 0, n)
	return &b
}

// putBuffer recycles a buffer of a class's exact size.
func putBuffer(b *[]byte) {
	for i := range classes {
		if cap(*b) == initialBuf<<i {
			*b = (*b)[:0]
			bufPools[i].Put(b)
			return
		}
	}
}

// heldBody is a request's body buffer and the part of the budget it holds.
type heldBody struct {
	budget  *bodyBudget
	ctx     context.Context // bounds the waits for room to grow
	buf     *[]byte
	held    int64 // shared room
	reserve bool  // the reserve: room to grow to any size up to reserveLen
}

// takeBuffer gets a body buffer of at least want bytes (the body's announced
// length, or the pool's size when unknown; at most MaxBody+1) and its room in the
// budget, waiting for room until ctx ends.
func (s *Server) takeBuffer(ctx context.Context, want int64) (*heldBody, error) {
	h := &heldBody{budget: s.budget, ctx: ctx, held: min(bufferSize(want), s.budget.reserveLen)}
	reserve, err := s.budget.take(ctx, h.held)
	if err != nil {
		return nil, err
	}
	if h.reserve = reserve; reserve {
		h.held = 0
	}
	h.buf = getBuffer(want)
	return h, nil
}

// bufferSize is the capacity of the buffer getBuffer returns for n bytes.
func bufferSize(n int64) int64 {
	for i := range classes {
		if size := int64(initialBuf) << i; n <= size {
			return size
		}
	}
	return n
}

// grow makes room for more of the body: a buffer twice as large (at most limit),
// once the budget has room for it.
func (h *heldBody) grow(buf []byte, limit int64) ([]byte, error) {
	n := min(bufferSize(2*int64(cap(buf))), limit)
	if n <= int64(cap(buf)) {
		return buf, nil
	}
	if extra := n - h.held; extra > 0 && !h.reserve {
		reserve, err := h.budget.more(h.ctx, extra)
		if err != nil {
			return buf, err
		}
		if h.reserve = reserve; !reserve {
			h.held += extra
		}
	}
	bigger := (*getBuffer(n))[:len(buf)]
	copy(bigger, buf)
	putBuffer(&buf)
	return bigger, nil
}

// done gives the budget back and recycles the buffer; the body must not be used
// after it.
func (h *heldBody) done(buf []byte) {
	putBuffer(&buf)
	h.budget.release(h.held, h.reserve)
}
