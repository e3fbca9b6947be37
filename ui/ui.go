package ui

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drainpipe/drainpipe/api"
	"github.com/prometheus/client_golang/prometheus"
)

// Config is what the UI needs.
type Config struct {
	// API serves the admin API (/api/...) to the requests the UI sends it, which
	// the UI authenticated itself: the handler must not ask them for the admin
	// token (cmd/drainpipe wraps the httpd server with httpd.AsAdmin).
	API http.Handler
	// AdminTokenHash is the SHA-256 of the admin token, which logs in as "admin".
	AdminTokenHash []byte
	// Users may log in with a name and a password; nil lets only the admin token in.
	// A user removed from its file, or given another password, is logged out.
	Users *Users
	// PublicURL is the base URL browsers reach the UI at. When it is https the
	// session cookie is Secure (and named with the __Host- prefix).
	PublicURL string
	// SessionTTL is a session's whole life (default 12 h); IdleTimeout ends a
	// session that made no request for that long (default 1 h; an open live tail
	// counts as use).
	SessionTTL, IdleTimeout time.Duration
	// TailRate is the live tail's rate, in lines per second, above which a stream
	// sends a sample of the lines and says so. Default 1000.
	TailRate int
	// MetricsInterval is the metrics' aggregation interval: the shortest step a
	// graph takes. Default 1 minute.
	MetricsInterval time.Duration
	// Gatherer is the server's Prometheus registry, which the system page reads.
	Gatherer prometheus.Gatherer
	// System is what the system page shows beside the registry.
	System     SystemInfo
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Now is the clock; tests set it. Default time.Now.
	Now func() time.Time
}

// SystemInfo is the configuration the system page shows.
type SystemInfo struct {
	// Version names the build (module version, VCS revision).
	Version string
	// JournalMaxBytes is the journal's disk cap; ArchiveMaxBytes the archive's
	// (0 when it has none).
	JournalMaxBytes, ArchiveMaxBytes int64
	// Started is when the server started.
	Started time.Time
}

// Handler serves the web UI: GET / (a redirect) and everything under /ui/.
type Handler struct {
	cfg      Config
	log      *slog.Logger
	api      *api.Client
	assets   *assets
	pages    *pages
	sessions *sessions
	limiter  *loginLimiter
	metrics  *uiMetrics
	secure   bool
	mux      *http.ServeMux
	apps     appCache
	// openStreams counts the live tails being served, against maxStreams.
	openStreams atomic.Int64

	// stop ends the live streams when the server shuts down.
	stop     context.Context
	stopOnce sync.Once
	cancel   context.CancelFunc
}

// New builds the UI.
func New(cfg Config) (*Handler, error) {
	if cfg.API == nil {
		return nil, errors.New("ui: no API handler")
	}
	setDefaults(&cfg)
	as, err := loadAssets()
	if err != nil {
		return nil, err
	}
	ps, err := loadPages(as)
	if err != nil {
		return nil, err
	}
	secure := false
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Scheme == "https" {
		secure = true
	}
	client := api.NewClientWith("http://drainpipe.internal", "", &http.Client{Transport: handlerTransport{cfg.API}})
	stop, cancel := context.WithCancel(context.Background())
	h := &Handler{
		cfg: cfg, log: cfg.Logger, api: client, assets: as, pages: ps, secure: secure,
		sessions: newSessions(cfg.SessionTTL, cfg.IdleTimeout, 10_000, cfg.Now, cfg.Users, cfg.Logger),
		limiter:  newLoginLimiter(6*time.Second, 10, 10_000, cfg.Now),
		metrics:  newUIMetrics(cfg.Registerer),
		mux:      http.NewServeMux(), stop: stop, cancel: cancel,
	}
	h.apps = appCache{api: client, ttl: 10 * time.Second, now: cfg.Now}
	h.routes()
	return h, nil
}

func setDefaults(cfg *Config) {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = time.Hour
	}
	if cfg.MetricsInterval <= 0 {
		cfg.MetricsInterval = time.Minute
	}
	if cfg.TailRate <= 0 {
		cfg.TailRate = 1000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
}

// Close ends the live streams, so that a server shutting down does not wait
// for them. The handler keeps serving other requests.
func (h *Handler) Close() { h.stopOnce.Do(h.cancel) }

// ServeHTTP implements http.Handler. Every answer carries the security headers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) routes() {
	m := h.mux
	m.HandleFunc("GET /{$}", redirectTo("/ui/"))
	m.HandleFunc("GET /ui/{$}", redirectTo("/ui/tail"))
	m.Handle("GET /ui/assets/", h.assets)
	m.HandleFunc("GET /ui/login", h.loginPage)
	m.Handle("POST /ui/login", h.crossOrigin(http.HandlerFunc(h.login)))
	m.Handle("POST /ui/logout", h.change(h.logout))

	m.Handle("GET /ui/tail", h.page(h.tailPage))
	m.Handle("GET /ui/stream", h.data(h.stream))
	m.Handle("GET /ui/session", h.data(h.whoami))
	m.Handle("GET /ui/search", h.page(h.searchPage))
	m.Handle("GET /ui/lines/{id}", h.page(h.linePage))
	m.Handle("GET /ui/metrics", h.page(h.metricsPage))
	m.Handle("GET /ui/data/metrics", gzipped(h.data(h.metricsData)))
	m.Handle("GET /ui/drains", h.page(h.drainsPage))
	m.Handle("POST /ui/drains", h.change(h.addDrain))
	m.Handle("GET /ui/drains/{app}/remove", h.page(h.removeDrainPage))
	m.Handle("POST /ui/drains/{app}/remove", h.change(h.removeDrain))
	m.Handle("GET /ui/system", h.page(h.systemPage))
	m.Handle("GET /ui/alerts", h.page(h.alertsPage))
	m.Handle("POST /ui/alerts", h.change(h.addAlert))
	m.Handle("GET /ui/alerts/{name}", h.page(h.alertPage))
	m.Handle("POST /ui/alerts/{name}/mute", h.change(h.muteAlert))
	m.Handle("POST /ui/alerts/{name}/test", h.change(h.testAlert))
	m.Handle("POST /ui/alerts/{name}/remove", h.change(h.removeAlert))
	m.Handle("/ui/api/", gzipped(h.crossOrigin(h.authed(h.proxyAPI, false))))
	m.Handle("/ui/", h.page(h.notFound))
}

func redirectTo(path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, path, http.StatusFound)
	}
}

// proxyAPI serves /ui/api/... with the admin API, for the pages' scripts: the
// session stands for the admin token, and changes carry the CSRF token.
func (h *Handler) proxyAPI(w http.ResponseWriter, r *http.Request, s *session) {
	if !safeMethod(r.Method) && !h.csrfOK(w, r, s, false) {
		writeJSONError(w, http.StatusForbidden, "missing or wrong CSRF token: reload the page")
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = r.URL.Path[len("/ui"):]
	r2.URL.RawPath = ""
	if r.URL.RawPath != "" {
		r2.URL.RawPath = r.URL.RawPath[len("/ui"):]
	}
	r2.RequestURI = ""
	r2.Header.Del("Cookie")
	h.cfg.API.ServeHTTP(w, r2)
}
