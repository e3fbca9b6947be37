package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/internal/backoff"
	"github.com/drainpipe/drainpipe/rfc5424"
)

// conn is one sender's connection. Everything but stopped and draining is used by
// its own goroutine only: the parser, and the batches it is filling.
type conn struct {
	s        *Server
	nc       net.Conn
	stopped  atomic.Bool // the shutdown's time is up: read no more
	draining atomic.Bool // the server is shutting down: read until quiet
	lines    int         // lines read, for the log of a cut connection

	pending  []*drainpipe.Batch // one per drain, in the order their first line came
	bytes    int                // what the pending lines hold, roughly
	flushAt  time.Time          // when the oldest pending line has waited FlushInterval
	lastData time.Time          // when the sender last sent bytes

	// The drain of the last well-formed line: it takes the malformed frames that follow.
	token string
	drain *drainpipe.Drain
}

func newConn(s *Server, nc net.Conn) *conn {
	return &conn{s: s, nc: nc, lastData: time.Now()}
}

// stop makes a blocked read return at once; the connection then flushes and closes.
func (c *conn) stop() {
	c.stopped.Store(true)
	_ = c.nc.SetReadDeadline(time.Now())
}

// halfCloser is a connection whose sending side can be closed on its own.
type halfCloser interface{ CloseWrite() error }

// shutDown tells the sender the server is going, by closing the sending side (TCP
// FIN, or TLS close_notify), and makes the reader read on until the connection is
// quiet or the shutdown's reading time is up.
func (c *conn) shutDown() {
	if c.draining.Swap(true) {
		return
	}
	if hc, ok := c.nc.(halfCloser); ok {
		_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		_ = hc.CloseWrite() // a TLS connection still in its handshake refuses: it is closed later
	}
	_ = c.nc.SetReadDeadline(time.Now()) // wake the reader to take the new deadlines
}

func (c *conn) serve() {
	defer c.s.untrack(c)
	defer c.nc.Close()
	c.s.m.connections.Inc()
	c.s.m.open.Inc()
	defer c.s.m.open.Dec()
	if err := c.handshake(); err != nil {
		c.ended(err)
		return
	}
	p := NewParser(connReader{c}, c.s.cfg.MaxFrame)
	for {
		rec, err := p.Next(time.Now())
		if err != nil {
			c.ended(err)
			break
		}
		c.lines++
		if b := c.add(rec); b != nil && (len(b.Records) >= c.s.cfg.BatchLines || c.bytes >= c.s.cfg.BatchBytes) {
			if c.flush() != nil {
				return
			}
		}
	}
	_ = c.flush()
}

// handshake completes a TLS handshake within HandshakeTimeout: a stalled one is
// not held until the idle timeout. Shutdown's stop ends it too.
func (c *conn) handshake() error {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.s.cfg.HandshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	return nil
}

// ended logs why the connection ended, unless it is an ordinary end.
func (c *conn) ended(err error) {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, errStopped), errors.Is(err, errQuiet):
	case errors.Is(err, errCut):
		c.s.m.cut.Inc()
		c.s.log.Warn("syslog connection cut at shutdown while still sending; the sender sees it reset",
			"remote", c.nc.RemoteAddr().String(), "lines_read", c.lines)
	case errors.Is(err, errIdle):
		c.s.m.idleTimeouts.Inc()
		c.s.log.Info("syslog connection idle, closing", "remote", c.nc.RemoteAddr().String())
	default:
		c.s.m.readErrors.Inc()
		c.s.log.Warn("syslog connection read failed", "remote", c.nc.RemoteAddr().String(), "err", err)
	}
}

// add puts rec in its drain's pending batch and returns the batch, or counts it and
// returns nil when it has no drain.
func (c *conn) add(rec drainpipe.Record) *drainpipe.Batch {
	if rec.Malformed && c.drain == nil {
		c.learnToken(rec.Message)
	}
	switch {
	case rec.Malformed && c.drain == nil:
		c.s.m.malformed.WithLabelValues("false").Inc()
		return nil
	case rec.Malformed:
		c.s.m.malformed.WithLabelValues("true").Inc()
	case rec.Host != c.token || c.drain == nil:
		d, ok := c.s.drains.Drain(rec.Host)
		if !ok {
			c.s.m.unknownToken.Inc()
			c.s.tokens.unknown(rec.Host, rec.Source, rec.Dyno, c.nc.RemoteAddr().String())
			return nil
		}
		c.token, c.drain = rec.Host, &d
	}
	rec.Drain, rec.App = c.drain.ID, c.drain.App
	b := c.batchFor(c.drain, rec.Received)
	b.Records = append(b.Records, rec)
	c.bytes += len(rec.Message) + len(rec.StructuredData) + 128 // the other fields, about
	return b
}

// learnToken takes the drain of a malformed piece whose header names one: the
// first piece of a frame too long to keep whole (see package doc, "Framing") has
// a header like any line's, so a connection whose first frame is over the size
// keeps it, in pieces, as a later frame's would be.
func (c *conn) learnToken(piece string) {
	if n, rest, ok := strings.Cut(piece, " "); ok && n != "" && strings.Trim(n, "0123456789") == "" {
		piece = rest // the octet count the first piece keeps
	}
	h, ok := rfc5424.Parse(piece, rfc5424.Options{})
	if !ok {
		return
	}
	if d, ok := c.s.drains.Drain(h.Host); ok {
		c.token, c.drain = h.Host, &d
	}
}

func (c *conn) batchFor(d *drainpipe.Drain, received time.Time) *drainpipe.Batch {
	for _, b := range c.pending {
		if b.Drain == d.ID {
			return b
		}
	}
	if len(c.pending) == 0 {
		c.flushAt = time.Now().Add(c.s.cfg.FlushInterval)
	}
	b := &drainpipe.Batch{Drain: d.ID, App: d.App, Received: received,
		Records: make([]drainpipe.Record, 0, min(c.s.cfg.BatchLines, 64))}
	c.pending = append(c.pending, b)
	return b
}

// flush appends every pending batch, retrying each until it is durable; meanwhile
// nothing is read from the connection, so TCP pushes back on the sender. It fails
// only when the shutdown timeout runs out.
func (c *conn) flush() error {
	for len(c.pending) > 0 {
		b := c.pending[0]
		if err := c.append(b); err != nil {
			lost := 0
			for _, b := range c.pending {
				lost += len(b.Records)
			}
			c.s.m.lost.Add(float64(lost))
			c.s.log.Error("syslog lines not stored: shutdown timeout ran out while the journal refused them",
				"remote", c.nc.RemoteAddr().String(), "lines", lost, "err", err)
			c.pending, c.bytes = nil, 0
			return err
		}
		c.pending = c.pending[1:]
	}
	c.pending, c.bytes = nil, 0
	return nil
}

func (c *conn) append(b *drainpipe.Batch) error {
	ctx := c.s.appendCtx
	// The journal is full or unavailable: retry soon, then every 2 s at most.
	wait := backoff.Backoff{Min: 50 * time.Millisecond, Max: 2 * time.Second}
	for attempt := 1; ; attempt++ {
		err := c.s.app.Append(ctx, b)
		if err == nil {
			c.s.m.batches.Inc()
			c.s.m.lines.Add(float64(len(b.Records)))
			return nil
		}
		c.s.m.appendErrors.Inc()
		if attempt == 1 || attempt%20 == 0 {
			c.s.log.Warn("syslog append failed, holding the connection and retrying",
				"drain", b.Drain, "lines", len(b.Records), "attempt", attempt, "err", err)
		}
		if err := wait.Wait(ctx); err != nil {
			return err
		}
	}
}

// connReader reads the connection with deadlines: the idle timeout, the time the
// pending batches are due (it flushes them before reading on) and, while the server
// shuts down, the quiet time and the end of the shutdown's reading time.
type connReader struct{ c *conn }

func (r connReader) Read(b []byte) (int, error) {
	c := r.c
	for {
		draining := c.draining.Load()
		idleAt, quietAt, cutAt := c.lastData.Add(c.s.cfg.IdleTimeout), time.Time{}, time.Time{}
		deadline := idleAt
		if len(c.pending) > 0 && c.flushAt.Before(deadline) {
			deadline = c.flushAt
		}
		if draining {
			quietAt, cutAt = c.lastData.Add(c.s.cfg.DrainQuiet), c.s.readCutoff()
			deadline = earliest(deadline, quietAt, cutAt)
		}
		_ = c.nc.SetReadDeadline(deadline)
		// After setting the deadline, so that stop's and drain's deadlines win.
		if c.stopped.Load() {
			return 0, errStopped
		}
		if draining != c.draining.Load() {
			continue
		}
		n, err := c.nc.Read(b)
		if n > 0 {
			c.lastData = time.Now()
			return n, nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, err
		}
		switch now := time.Now(); {
		case c.stopped.Load():
			return 0, errStopped
		case draining && !now.Before(quietAt):
			return 0, errQuiet
		case draining && !cutAt.IsZero() && !now.Before(cutAt):
			return 0, errCut
		case len(c.pending) > 0 && !now.Before(c.flushAt):
			if c.flush() != nil {
				return 0, errStopped // flush fails only once the shutdown's time is up
			}
		case !now.Before(idleAt):
			return 0, errIdle
		}
	}
}

// earliest is the earliest of the times that are set.
func earliest(t time.Time, more ...time.Time) time.Time {
	for _, m := range more {
		if !m.IsZero() && m.Before(t) {
			t = m
		}
	}
	return t
}
