// Package connlimit caps the connections a listener holds open at once, so that a
// flood of connections (slow, stalled, or many) cannot take every file descriptor
// and starve the senders that matter.
//
// At the cap, a new connection is not turned away: the open connection that has
// been quiet the longest and is not busy (a request being handled) is closed to
// make room. A flood therefore pushes out its own stalled connections, while a
// sender that sends promptly (a real drain, a health check) gets in and is served.
// Only when every open connection is busy is the new one closed at once.
package connlimit

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Listener is a net.Listener that holds at most Max connections open.
type Listener struct {
	net.Listener
	max int

	mu   sync.Mutex
	open map[*Conn]struct{}

	evicted, refused atomic.Int64
}

// New caps ln at limit open connections (at least 1).
func New(ln net.Listener, limit int) *Listener {
	return &Listener{Listener: ln, max: max(1, limit), open: make(map[*Conn]struct{})}
}

// Accept waits for the next connection and admits it, closing the quietest idle
// connection when the cap is reached.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		c := &Conn{Conn: nc, l: l}
		c.last.Store(time.Now().UnixNano())
		victim, ok := l.admit(c)
		if victim != nil {
			l.evicted.Add(1)
			_ = victim.Conn.Close() // its reader fails and closes it
		}
		if ok {
			return c, nil
		}
		l.refused.Add(1)
		_ = nc.Close()
	}
}

// admit adds c, and returns the connection to close for it when at the cap; ok is
// false when every open connection is busy.
func (l *Listener) admit(c *Conn) (victim *Conn, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.open) >= l.max {
		for o := range l.open {
			if o.busy.Load() == 0 && (victim == nil || o.last.Load() < victim.last.Load()) {
				victim = o
			}
		}
		if victim == nil {
			return nil, false
		}
		delete(l.open, victim)
	}
	l.open[c] = struct{}{}
	return victim, true
}

func (l *Listener) remove(c *Conn) {
	l.mu.Lock()
	delete(l.open, c)
	l.mu.Unlock()
}

// Open is the number of connections open now.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.open)
}

// Evicted is the number of quiet connections closed to make room for new ones.
func (l *Listener) Evicted() int64 { return l.evicted.Load() }

// Refused is the number of new connections closed because every open one was busy.
func (l *Listener) Refused() int64 { return l.refused.Load() }

// Conn is an admitted connection. Reading a byte makes it active; Busy keeps it
// from being closed for room.
type Conn struct {
	net.Conn
	l      *Listener
	last   atomic.Int64 // unix nanoseconds of the last byte read
	busy   atomic.Int32
	closed sync.Once
}

func (c *Conn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// CloseWrite closes the sending side, as *net.TCPConn does, when the connection
// has one to close on its own.
func (c *Conn) CloseWrite() error {
	if hc, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return errors.ErrUnsupported
}

// Close closes the connection and frees its place.
func (c *Conn) Close() error {
	c.closed.Do(func() { c.l.remove(c) })
	return c.Conn.Close()
}

// Busy marks the connection as doing work that must not be cut (a request being
// handled) until the returned func is called.
func (c *Conn) Busy() (done func()) {
	c.busy.Add(1)
	var once sync.Once
	return func() { once.Do(func() { c.busy.Add(-1) }) }
}

type ctxKey struct{}

// WithConn returns ctx carrying c, for http.Server's ConnContext.
func WithConn(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := c.(*Conn); ok {
		return context.WithValue(ctx, ctxKey{}, lc)
	}
	return ctx
}

// FromContext returns the connection WithConn put in ctx, or nil.
func FromContext(ctx context.Context) *Conn {
	c, _ := ctx.Value(ctxKey{}).(*Conn)
	return c
}

// DefaultMax is a cap for one listener: want, or a quarter of the process's file
// limit when that is lower, so that a flood on one listener leaves descriptors
// for the journal, the archive and the other listeners.
func DefaultMax(want int) int {
	if n := FDLimit(); n > 0 {
		return max(16, min(want, n/4))
	}
	return want
}
