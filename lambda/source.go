package lambda

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/httpd"
	"github.com/drainpipe/drainpipe/ssm"
)

// How a DrainSource keeps an SSM parameter's drains fresh: a warm function may
// live for hours, and a drain added since it started must not be refused (a 401
// makes logplex drop the batch for good).
const (
	// DefaultMaxAge is how old the drains read from SSM may get before an
	// invocation reads them again, so a removed drain stops working soon.
	DefaultMaxAge = 5 * time.Minute
	// DefaultMinInterval bounds how often an unknown secret makes the function
	// read the parameter again, so wrong credentials cannot flood SSM (one read
	// per instance every 2 s at most). A drain added less than that after an
	// instance's last read is refused by it until then: in practice never, since
	// Heroku's first batch comes seconds after `heroku drains:add`.
	DefaultMinInterval = 2 * time.Second
	// readBudget bounds one read of the parameter during an invocation.
	readBudget = time.Second
)

// DrainSource is where the function finds its drains: the value of
// DRAINPIPE_LAMBDA_DRAINS itself, or the SSM Parameter Store SecureString it
// names ("ssm:/drainpipe/drains"). An inline value never changes while the
// function runs (Lambda starts new instances when its environment changes); a
// parameter is read at cold start, again when older than MaxAge, and at once
// (at most every MinInterval) when a request's secret is unknown.
type DrainSource struct {
	param       string // "" for an inline value
	api         ssm.API
	log         *slog.Logger
	now         func() time.Time
	maxAge      time.Duration
	minInterval time.Duration

	mu     sync.Mutex
	drains *Drains
	loaded time.Time // the last read that worked
	tried  time.Time // the last read
	unread error     // why the last read failed; nil once one works again
}

// SourceOptions tune a DrainSource; zero fields take the defaults.
type SourceOptions struct {
	MaxAge, MinInterval time.Duration
	Logger              *slog.Logger
	Now                 func() time.Time
}

// LoadDrains reads the drains at cold start from value, or from the parameter
// it names through api. A parameter that does not exist yet is an empty set
// (every request is refused until a drain is added); any other failure to read
// it is an error, so the function fails to start and Lambda answers 5xx, which
// logplex retries, rather than refuse drains it could not check.
func LoadDrains(ctx context.Context, value string, api ssm.API, opt SourceOptions) (*DrainSource, error) {
	s := &DrainSource{api: api, log: opt.Logger, now: opt.Now, maxAge: opt.MaxAge, minInterval: opt.MinInterval}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.maxAge = cmpOr(s.maxAge, DefaultMaxAge)
	s.minInterval = cmpOr(s.minInterval, DefaultMinInterval)
	name, isParam := strings.CutPrefix(strings.TrimSpace(value), SSMPrefix)
	if !isParam {
		d, err := ParseDrains(value)
		if err != nil {
			return nil, fmt.Errorf("DRAINPIPE_LAMBDA_DRAINS: %w", err)
		}
		s.drains = d
		return s, nil
	}
	if name == "" || api == nil {
		return nil, errors.New("DRAINPIPE_LAMBDA_DRAINS: ssm: needs a parameter name, as in ssm:/drainpipe/drains")
	}
	s.param = name
	d, err := s.read(ctx)
	if errors.Is(err, ssm.ErrNotFound) {
		s.log.Warn("the drains parameter does not exist yet: every request is refused until `drainpipe lambda drains add APP --to ssm:"+name+"`", "parameter", name)
		d, err = &Drains{byHash: map[[32]byte]drainpipe.Drain{}}, nil
	}
	if err != nil {
		return nil, err
	}
	s.drains, s.loaded = d, s.now()
	return s, nil
}

func cmpOr(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}

// read reads and parses the parameter.
func (s *DrainSource) read(ctx context.Context) (*Drains, error) {
	s.tried = s.now()
	text, err := ssm.Get(ctx, s.api, s.param)
	if err != nil {
		return nil, err
	}
	d, err := ParseDrains(text)
	if err != nil {
		return nil, fmt.Errorf("ssm parameter %s: %w", s.param, err)
	}
	return d, nil
}

// Drains returns the drains in force.
func (s *DrainSource) Drains() *Drains {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.drains
}

// Refresh reads the parameter again if the drains are older than MaxAge. A
// failure keeps the drains in force and is logged.
func (s *DrainSource) Refresh(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.param == "" || s.now().Sub(s.loaded) < s.maxAge || s.now().Sub(s.tried) < s.minInterval {
		return
	}
	s.reload(ctx, "the drains are older than "+s.maxAge.String())
}

// reload reads the parameter within readBudget; s.mu is held.
func (s *DrainSource) reload(ctx context.Context, why string) {
	ctx, cancel := context.WithTimeout(ctx, readBudget)
	defer cancel()
	d, err := s.read(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "drains not read again; those read before stay in force, unknown secrets are answered 503", "parameter", s.param, "why", why, "err", err)
		s.unread = fmt.Errorf("drains not read from ssm parameter %s: %w", s.param, err)
		return
	}
	s.drains, s.loaded, s.unread = d, s.now(), nil
}

// Health is nil while the drains in force can be trusted to know every drain:
// always for an inline value (fixed for the instance's life), and for a
// parameter while its last read worked. After a failed read a secret the
// drains do not know may belong to a drain added since, so the receiver answers
// it 503, which logplex retries, not a 401, which makes it drop the batch; the
// server answers so for a drain store that lost its drains.
func (s *DrainSource) Health() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unread
}

// For returns the authenticator of one invocation: a secret the drains in
// force do not know makes it read the parameter again, within ctx, at most
// every MinInterval, before the secret is refused (401, or 503 while the
// parameter cannot be read: see Health).
func (s *DrainSource) For(ctx context.Context) httpd.Authenticator {
	return invocationAuth{s, ctx}
}

// invocationAuth authenticates within one invocation's context.
type invocationAuth struct {
	s   *DrainSource
	ctx context.Context
}

func (a invocationAuth) Authenticate(secret string) (drainpipe.Drain, bool) {
	s := a.s
	if d, ok := s.Drains().Authenticate(secret); ok || s.param == "" {
		return d, ok
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.now().Sub(s.tried) >= s.minInterval {
		s.reload(a.ctx, "a request's secret is unknown")
	}
	return s.drains.Authenticate(secret)
}

func (a invocationAuth) Health() error { return a.s.Health() }
