package httpd

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drainpipe/drainpipe"
)

// Authenticator finds the drain a secret belongs to. Health is nil while it can
// be trusted to say a secret is unknown (answered 401, which logplex takes as
// final); an error makes unknown credentials a 503, which logplex retries.
type Authenticator interface {
	Authenticate(secret string) (drainpipe.Drain, bool)
	Health() error
}

// ReceiverConfig is what the drain endpoint alone needs.
type ReceiverConfig struct {
	// Journal takes each accepted batch; the answer waits for Append.
	Journal Journal
	// StoreName is as in Config.
	StoreName string
	// Drains authenticates requests; its Health decides between 401 and 503 for
	// credentials it does not know, as the server's drain store does.
	Drains Authenticator
	// MaxBody, AppendTimeout, BodyTimeout, Logger, Registerer and Now are as in
	// Config. BodyTimeout matters only when the request comes from a connection.
	MaxBody       int64
	AppendTimeout time.Duration
	BodyTimeout   time.Duration
	Logger        *slog.Logger
	Registerer    prometheus.Registerer
	Now           func() time.Time
}

// NewReceiver returns the drain endpoint on its own, answering every path, for a
// process that serves nothing else (AWS Lambda). It authenticates, reads and
// parses exactly as the server's POST /logs does, and gives the same answers.
func NewReceiver(cfg ReceiverConfig) http.Handler {
	s := newServer(Config{
		Journal: cfg.Journal, StoreName: cfg.StoreName, Drains: authOnly{cfg.Drains}, MaxBody: cfg.MaxBody, AppendTimeout: cfg.AppendTimeout,
		BodyTimeout: cfg.BodyTimeout, Logger: cfg.Logger, Registerer: cfg.Registerer, Now: cfg.Now,
	})
	return http.HandlerFunc(s.receive)
}

// authOnly is a drain store that can only authenticate (and say whether its
// refusals are to be trusted): the receiver calls nothing else, and with no
// admin routes served nothing else is reached.
type authOnly struct{ Authenticator }

var errReadOnly = errors.New("drains: this receiver only authenticates")

func (authOnly) ByApp(string) (drainpipe.Drain, bool) { return drainpipe.Drain{}, false }
func (authOnly) List() []drainpipe.Drain              { return nil }
func (authOnly) Add(context.Context, drainpipe.Drain) (drainpipe.Drain, bool, error) {
	return drainpipe.Drain{}, false, errReadOnly
}
func (authOnly) Update(context.Context, drainpipe.Drain) error { return errReadOnly }
func (authOnly) Remove(context.Context, string) error          { return errReadOnly }
