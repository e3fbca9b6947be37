// Package herokuemu is a test double of Heroku's Platform API log-drain endpoints,
// faithful to what drainpipe relies on (the project's copy of Heroku's documentation,
// heroku/testdata/heroku-platform-api.md):
// Bearer key check, the version-3 Accept header, apps, drains by id, URL or token,
// add-on drains that cannot be deleted, a rate limit with RateLimit-Remaining on
// every answer, and injected faults. Tests drive it with the real heroku.Client over
// real HTTP.
//
// Heroku's exact texts are not all documented. These are the emulator's guesses,
// unconfirmed against production Heroku:
//
//   - 401 {"id":"unauthorized","message":"Invalid credentials provided."}
//   - 404 {"id":"not_found","message":"Couldn't find that app."} for an unknown app
//   - 404 {"id":"not_found","message":"Couldn't find that log drain."} for an unknown drain
//   - 404 {"id":"not_found","message":"The requested API endpoint was not found. ..."} for
//     an unknown path
//   - 406 {"id":"not_acceptable","message":"Please specify a version along with Heroku's API
//     MIME type. For example, `Accept: application/vnd.heroku+json; version=3`."}
//   - 422 {"id":"invalid_params","message":"Url has already been taken"} for a duplicate URL
//   - 422 {"id":"invalid_params","message":"Url is invalid"} for a URL that is not
//     http(s), syslog or syslog+tls with a host
//   - 422 {"id":"invalid_params","message":"Url can't be blank"} for a missing URL
//   - 400 {"id":"bad_request","message":"Invalid JSON."} for an unreadable body
//   - 422 {"id":"invalid_params","message":"Cannot remove a log drain that belongs to an
//     add-on. Remove the add-on <name> instead."} for deleting an add-on's drain
//   - 429 {"id":"rate_limit","message":"Your account reached the API rate limit\nPlease wait
//     a few minutes before making new requests"}
//   - the rate limit refills continuously (4,500 an hour) and rate-limited, unauthorised
//     and injected answers spend nothing
//   - timestamps in RFC 3339 UTC to the second, and the drain list in creation order
package herokuemu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Config configures a Server. Only APIKey is required.
type Config struct {
	// APIKey is the one key the server accepts as a Bearer token.
	APIKey string
	// RateLimit is the request budget per RatePeriod; 4,500 when zero.
	RateLimit int
	// RatePeriod is the time in which the budget refills completely; an hour when zero.
	RatePeriod time.Duration
}

// Server emulates the Platform API's log-drain endpoints. Its zero value is not
// usable; make one with New. It is safe for concurrent use.
type Server struct {
	cfg     Config
	handler http.Handler

	mu       sync.Mutex
	apps     map[string]*app // by name and by id
	requests int
	bucket   bucket
	fault    fault
	srv      *http.Server
}

type app struct {
	id, name string
	drains   []Drain
}

// fault is an answer forced on the next n requests.
type fault struct {
	n, status   int
	id, message string
}

// New returns a server with no apps.
func New(cfg Config) *Server {
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 4500
	}
	if cfg.RatePeriod == 0 {
		cfg.RatePeriod = time.Hour
	}
	s := &Server{cfg: cfg, apps: map[string]*app{}}
	s.bucket = bucket{capacity: float64(cfg.RateLimit), tokens: float64(cfg.RateLimit)}
	s.handler = s.routes()
	return s
}

// ServeHTTP answers one Platform API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Listen serves on addr (such as "127.0.0.1:0") and returns the base URL to give
// heroku.Config.BaseURL.
func (s *Server) Listen(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the listener that Listen started and its connections.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shut down: %w", err)
	}
	return srv.Close()
}

// AddApp creates an app the key may act on and returns its id; adding an existing
// name returns the existing app's id.
func (s *Server) AddApp(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.apps[name]; ok {
		return a.id
	}
	a := &app{id: newUUID(), name: name}
	s.apps[a.name], s.apps[a.id] = a, a
	return a.id
}

// AddAddonDrain adds to app a drain owned by the add-on addonName, as provisioning
// an add-on such as Papertrail does; such a drain cannot be deleted through the API.
func (s *Server) AddAddonDrain(appName, addonName, drainURL string) (Drain, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[appName]
	if !ok {
		return Drain{}, fmt.Errorf("add add-on drain: no app %q", appName)
	}
	d := s.newDrain(a, drainURL)
	d.Addon = &Addon{ID: newUUID(), Name: addonName, App: App{ID: a.id, Name: a.name}}
	a.drains = append(a.drains, d)
	return d, nil
}

// SetFail makes the next n requests fail with status and the error body {id,
// message}, before any other check; n <= 0 clears it.
func (s *Server) SetFail(n, status int, id, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = fault{n: max(n, 0), status: status, id: id, message: message}
}

// Drains returns app's drains in creation order, nil for an unknown app.
func (s *Server) Drains(appName string) []Drain {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[appName]
	if !ok {
		return nil
	}
	return slices.Clone(a.drains)
}

// Requests returns how many requests the server has received, answered or refused.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// newDrain builds a drain of a for drainURL; the caller holds s.mu.
func (s *Server) newDrain(a *app, drainURL string) Drain {
	now := time.Now().UTC().Truncate(time.Second)
	return Drain{
		ID:        newUUID(),
		URL:       drainURL,
		Token:     "d." + newUUID(),
		App:       App{ID: a.id, Name: a.name},
		CreatedAt: now,
		UpdatedAt: now,
	}
}
