package httpd

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/drainpipe/drainpipe/internal/connlimit"
	"github.com/prometheus/client_golang/prometheus"
)

// ListenConfig says how the HTTP server guards itself against slow and many
// clients. Zero values take the defaults named on each field.
type ListenConfig struct {
	// Addr is the TCP address, such as ":8080" or "127.0.0.1:0".
	Addr string
	// MaxConns caps the connections open at once. At the cap the connection quiet
	// the longest and not in a request is closed to make room (see package
	// connlimit), so a flood cannot starve real drains or /healthz. Default 4096,
	// or a quarter of the process's file limit when that is lower.
	MaxConns int
	// HeaderTimeout bounds reading a request's headers. Default 5 s.
	HeaderTimeout time.Duration
	// IdleTimeout closes a kept-alive connection idle this long. Default 120 s.
	IdleTimeout time.Duration
	// MaxHeaderBytes caps a request's headers. Default 64 KiB.
	MaxHeaderBytes int
	Logger         *slog.Logger
	// Registerer receives the connection metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

func (c *ListenConfig) setDefaults() {
	if c.MaxConns <= 0 {
		c.MaxConns = connlimit.DefaultMax(4096)
	}
	if c.HeaderTimeout <= 0 {
		c.HeaderTimeout = 5 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 120 * time.Second
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = 64 << 10
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Listener serves a handler on a listener with a connection cap and deadlines.
type Listener struct {
	hs *http.Server
	ln *connlimit.Listener
	// draining ends when Shutdown begins: long polls answer at once then,
	// instead of holding the shutdown for their whole wait (see draining).
	draining     context.Context
	stopDraining context.CancelFunc
}

// Listen listens on cfg.Addr for h; Serve then serves it. Request bodies have their
// own deadline (Config.BodyTimeout), set by the handlers that read them.
func Listen(cfg ListenConfig, h http.Handler) (*Listener, error) {
	cfg.setDefaults()
	tcp, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	ln := connlimit.New(tcp, cfg.MaxConns)
	l := &Listener{ln: ln}
	l.draining, l.stopDraining = context.WithCancel(context.Background())
	l.hs = &http.Server{
		Handler: busyWhileServed(h),
		BaseContext: func(net.Listener) context.Context {
			return context.WithValue(context.Background(), drainingKey{}, l.draining)
		},
		ReadHeaderTimeout: cfg.HeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ConnContext:       connlimit.WithConn,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	if err := registerConnMetrics(cfg.Registerer, ln, cfg.MaxConns); err != nil {
		tcp.Close()
		return nil, err
	}
	return l, nil
}

// busyWhileServed keeps a connection from being closed for room while one of its
// requests is being handled.
func busyWhileServed(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := connlimit.FromContext(r.Context()); c != nil {
			defer c.Busy()()
		}
		h.ServeHTTP(w, r)
	})
}

// Addr is the address the server listens on.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Serve serves until Shutdown; it then returns http.ErrServerClosed.
func (l *Listener) Serve() error { return l.hs.Serve(l.ln) }

// Shutdown stops accepting and waits, within ctx, for the requests in flight;
// long polls among them answer at once (see draining).
func (l *Listener) Shutdown(ctx context.Context) error {
	l.stopDraining()
	return l.hs.Shutdown(ctx)
}

type drainingKey struct{}

// draining is a context that ends when the server the request ctx belongs to
// begins to shut down; one that never ends for a request served otherwise. A
// long poll (a follower's wait for new lines) answers at once then, with what
// it has: the shutdown waits for the requests in flight, and a drain's
// batches must be answered, not a follower's idle wait.
func draining(ctx context.Context) context.Context {
	if d, ok := ctx.Value(drainingKey{}).(context.Context); ok {
		return d
	}
	return context.Background()
}

func registerConnMetrics(reg prometheus.Registerer, ln *connlimit.Listener, maxConns int) error {
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "drainpipe_http_connections_open",
			Help: "HTTP connections open now."}, func() float64 { return float64(ln.Open()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "drainpipe_http_connections_max",
			Help: "HTTP connections open at most (--max-connections)."}, func() float64 { return float64(maxConns) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "drainpipe_http_connections_evicted_total",
			Help: "Quiet HTTP connections closed at the cap to make room for new ones."}, func() float64 { return float64(ln.Evicted()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "drainpipe_http_connections_refused_total",
			Help: "New HTTP connections closed at the cap because every open one was in a request."}, func() float64 { return float64(ln.Refused()) }),
	} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register HTTP connection metrics: %w", err)
		}
	}
	return nil
}
