package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/internal/connlimit"
)

// Drains finds the drain that a syslog HOSTNAME token ("d.<uuid>") belongs to.
type Drains interface {
	Drain(token string) (drainpipe.Drain, bool)
}

// Appender takes batches into the journal; Append returns once the batch is durable.
type Appender interface {
	Append(ctx context.Context, b *drainpipe.Batch) error
}

// Config configures a Server. Zero values take the defaults named on each field.
type Config struct {
	// Addr is the TCP address to listen on, such as ":6514" or "127.0.0.1:0".
	Addr string
	// TLS, when set, makes the listener syslog+tls.
	TLS *tls.Config
	// MaxFrame is the largest frame kept whole (default DefaultMaxFrame); longer frames
	// are cut into malformed records.
	MaxFrame int
	// IdleTimeout closes a connection that sent nothing for this long (default 1m).
	// Heroku's logplex reconnects when a drain's connection is closed, so a quiet
	// app costs a reconnect; a stalled stranger is held at most this long.
	IdleTimeout time.Duration
	// HandshakeTimeout bounds a TLS handshake (default 10s).
	HandshakeTimeout time.Duration
	// MaxConns caps the connections open at once (default 1024, or a quarter of the
	// process's file limit when lower). At the cap the connection quiet the longest is
	// closed for a new one (see package connlimit). With MaxFrame, it bounds the
	// memory strangers can make the server hold: MaxConns × MaxFrame at most.
	MaxConns int
	// BatchLines is the most lines in one batch (default 1000).
	BatchLines int
	// BatchBytes appends a batch once its lines hold this many bytes (default 1 MiB).
	BatchBytes int
	// FlushInterval is the longest a line waits for its batch to fill (default 200ms).
	FlushInterval time.Duration
	// ShutdownTimeout bounds Close: the draining of the open connections and the
	// appends of what they read (default 10s). Shutdown takes its bound from its
	// context instead.
	ShutdownTimeout time.Duration
	// DrainQuiet is how long a connection must send nothing, once the server is
	// shutting down, to be taken as done with what it had in flight (default 1s).
	DrainQuiet time.Duration
	// Logger receives connection errors and append failures (default: discarded).
	Logger *slog.Logger
	// Registerer, when set, gets the server's metrics.
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() {
	if c.MaxFrame <= 0 {
		c.MaxFrame = DefaultMaxFrame
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = time.Minute
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.MaxConns <= 0 {
		c.MaxConns = connlimit.DefaultMax(1024)
	}
	if c.BatchLines <= 0 {
		c.BatchLines = 1000
	}
	if c.BatchBytes <= 0 {
		c.BatchBytes = 1 << 20
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = 200 * time.Millisecond
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.DrainQuiet <= 0 {
		c.DrainQuiet = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Server receives syslog drains on one TCP (or TLS) listener.
type Server struct {
	cfg    Config
	drains Drains
	app    Appender
	ln     net.Listener
	m      *metrics
	log    *slog.Logger
	tokens *tokenLog

	// appendCtx outlives the Serve context until the shutdown's own context ends,
	// so that what was read before and during the shutdown can still be appended.
	appendCtx context.Context
	giveUp    context.CancelFunc

	mu      sync.Mutex
	conns   map[*conn]struct{}
	closing bool
	readBy  time.Time // when draining connections stop reading; zero: until quiet
	wg      sync.WaitGroup
}

// NewServer listens on cfg.Addr; Serve then accepts the connections.
func NewServer(cfg Config, drains Drains, app Appender) (*Server, error) {
	cfg.setDefaults()
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	tcp, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("syslog listen: %w", err)
	}
	capped := connlimit.New(tcp, cfg.MaxConns)
	if err := m.watch(cfg.Registerer, capped, cfg.MaxConns); err != nil {
		tcp.Close()
		return nil, err
	}
	var ln net.Listener = capped
	if cfg.TLS != nil {
		ln = tls.NewListener(ln, cfg.TLS)
	}
	appendCtx, giveUp := context.WithCancel(context.Background())
	return &Server{
		cfg: cfg, drains: drains, app: app, ln: ln, m: m, log: cfg.Logger, tokens: newTokenLog(cfg.Logger),
		appendCtx: appendCtx, giveUp: giveUp, conns: map[*conn]struct{}{},
	}, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts connections until ctx ends (then shuts down as Close does) or
// Shutdown or Close is called, and returns nil; it returns an error when
// accepting fails otherwise.
func (s *Server) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { _ = s.Close() })
	defer stop()
	var wait time.Duration
	for {
		nc, err := s.ln.Accept()
		switch {
		case err == nil:
			wait = 0
			go s.ServeConn(nc)
		case s.isClosing():
			s.wg.Wait()
			return nil
		case errors.Is(err, net.ErrClosed):
			_ = s.Close()
			return fmt.Errorf("syslog accept: %w", err)
		default:
			// Out of file descriptors and the like: wait for connections to end.
			wait = min(max(2*wait, 5*time.Millisecond), time.Second)
			s.log.Warn("syslog accept failed, retrying", "err", err, "in", wait)
			time.Sleep(wait)
		}
	}
}

// ServeConn reads one connection, already accepted, until it ends or the server
// closes; Serve calls it for each connection of its listener.
func (s *Server) ServeConn(nc net.Conn) {
	c := s.track(nc)
	if c == nil {
		_ = nc.Close()
		return
	}
	c.serve()
}

// Close is Shutdown within ShutdownTimeout.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	return s.Shutdown(ctx)
}

// Shutdown stops accepting and drains the open connections: each is told the
// server is going (its write side is closed, which a client such as rsyslog takes
// as the sign to reconnect elsewhere) and is read on until it ends or sends
// nothing for DrainQuiet, so the lines already on their way are not lost. What is
// read is appended to the journal, then the connection is closed. Reading stops
// a little before ctx's deadline (the rest is for the appends): a connection still
// sending then is cut and counted (drainpipe_syslog_cut_connections_total), and
// lines read but not appended when ctx ends are counted as lost. Shutdown returns
// once every connection is closed.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	first := !s.closing
	s.closing = true
	if first {
		s.readBy = readCutoff(ctx)
	}
	s.mu.Unlock()
	// New connections are refused before the open ones are told: a sender that
	// sees its connection end and dials again must find the port closed.
	var err error
	if first {
		err = s.ln.Close()
	}
	s.mu.Lock()
	for c := range s.conns {
		c.shutDown()
	}
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		s.giveUp() // appends fail from now on, and are counted as lost
		s.mu.Lock()
		for c := range s.conns {
			c.stop()
		}
		s.mu.Unlock()
	})
	defer stop()
	s.wg.Wait()
	if first {
		s.giveUp() // nothing is left to append
	}
	return err
}

// readCutoff is when draining connections stop reading: before ctx's deadline by
// a quarter of the time left, at most a second, kept for appending what was read.
func readCutoff(ctx context.Context) time.Time {
	dl, ok := ctx.Deadline()
	if !ok {
		return time.Time{}
	}
	return dl.Add(-min(time.Second, time.Until(dl)/4))
}

// readCutoff is when draining connections stop reading; zero while serving, or
// when the shutdown has no deadline.
func (s *Server) readCutoff() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readBy
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// track registers a new connection, or returns nil when the server is closing.
func (s *Server) track(nc net.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil
	}
	c := newConn(s, nc)
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return c
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// errStopped ends a connection's reads when the shutdown's time is up.
var errStopped = errors.New("server closing")

// errQuiet ends a draining connection that sent nothing for DrainQuiet.
var errQuiet = errors.New("quiet at shutdown")

// errCut ends a draining connection still sending when its reading time is up.
var errCut = errors.New("still sending when the shutdown's time was up")

// errIdle ends a connection that sent nothing for IdleTimeout.
var errIdle = errors.New("idle timeout")
