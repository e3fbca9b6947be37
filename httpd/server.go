// Package httpd is drainpipe's HTTP side: the Heroku drain receiver (POST /logs),
// the admin API (/api/..., see package api), health (/healthz) and Prometheus
// metrics (/metrics).
package httpd

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Journal is where accepted batches go; Append returns once the batch is durable.
type Journal interface {
	Append(ctx context.Context, b *drainpipe.Batch) (duplicate bool, err error)
}

// Drains is the drain store.
type Drains interface {
	Authenticate(secret string) (drainpipe.Drain, bool)
	ByApp(app string) (drainpipe.Drain, bool)
	List() []drainpipe.Drain
	Add(ctx context.Context, d drainpipe.Drain) (drainpipe.Drain, bool, error)
	Update(ctx context.Context, d drainpipe.Drain) error
	Remove(ctx context.Context, id string) error
}

// StatusReporter is a sink that tells how each app's delivery goes.
type StatusReporter interface {
	Name() string
	// Status maps app to "ok" or a sentence saying what is wrong.
	Status() map[string]string
}

// Archive answers `tail --follow` and the drain listing's counts.
type Archive interface {
	// LastID is the id of the newest line committed, where following starts.
	LastID() int64
	After(ctx context.Context, app string, afterID int64, limit int) ([]archive.Line, error)
	Wait(ctx context.Context, afterID int64) error
	Stats(ctx context.Context, app string) (archive.AppStats, error)
}

// MetricsHistory answers `drainpipe metrics` and draws graphs.
type MetricsHistory interface {
	Query(ctx context.Context, app string, since, until time.Time, namePrefix string) ([]metrics.Series, error)
	Range(ctx context.Context, q metrics.RangeQuery) ([]metrics.RangeSeries, error)
}

// Config is what the server needs.
type Config struct {
	Journal Journal
	Drains  Drains
	Archive Archive
	// Reader answers the searches, tails, exports, contexts, histograms and facets.
	Reader Reader
	// LogsQL answers VictoriaLogs' query API (/select/logsql/...); nil turns it off.
	LogsQL LogsQL
	// Sinks report their per-app status in the drain listing.
	Sinks []StatusReporter
	// Metrics holds the aggregated metrics; nil turns the endpoint off.
	Metrics MetricsHistory
	// Alerts serves the alert endpoints; nil turns them off.
	Alerts Alerts
	// AdminTokenHash is the SHA-256 of the admin token.
	AdminTokenHash []byte
	// PublicURL is the base of the drain URLs handed out (https://logs.example.com).
	PublicURL string
	// MaxBody is the largest request body accepted, after decompression. Default 8 MiB.
	MaxBody int64
	// AppendTimeout bounds the wait for the journal, below logplex's 5 s, so a slow
	// journal is answered with a 503 that logplex retries. Default 4 s.
	AppendTimeout time.Duration
	Logger        *slog.Logger
	Registerer    prometheus.Registerer
	Gatherer      prometheus.Gatherer
	// Now is the clock; tests set it. Default time.Now.
	Now func() time.Time
	// UI, when set, serves the web UI at /ui/ and answers GET / with a redirect to it.
	UI http.Handler
}

// Server serves drainpipe's HTTP endpoints.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *receiverMetrics
	mux     *http.ServeMux
	ready   func() bool
	// selects holds a token for each LogsQL query running; see selectLimit.
	selects chan struct{}
}

// New builds the server. ready reports whether /healthz answers 200.
func New(cfg Config, ready func() bool) *Server {
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 8 << 20
	}
	if cfg.AppendTimeout == 0 {
		cfg.AppendTimeout = 4 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: newReceiverMetrics(cfg.Registerer), mux: http.NewServeMux(), ready: ready,
		selects: make(chan struct{}, maxSelects)}
	s.routes()
	return s
}

func (s *Server) routes() {
	s.mux.HandleFunc("/logs", s.receive)
	s.mux.HandleFunc("/logs/", s.receive)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	if s.cfg.Gatherer != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{}))
	}
	s.mux.Handle("POST /api/drains", s.admin(s.addDrain))
	s.mux.Handle("GET /api/drains", s.admin(s.listDrains))
	s.mux.Handle("GET /api/drains/{app}", s.admin(s.getDrain))
	s.mux.Handle("DELETE /api/drains/{app}", s.admin(s.removeDrain))
	s.mux.Handle("PUT /api/drains/{app}/heroku", s.admin(s.setHeroku))
	s.mux.Handle("GET /api/apps/{app}/tail", s.admin(s.tail))
	s.mux.Handle("GET /api/apps/{app}/lines", s.admin(s.lines))
	s.mux.Handle("GET /api/apps/{app}/search", s.admin(s.search))
	s.mux.Handle("GET /api/apps/{app}/export", s.admin(s.export))
	s.mux.Handle("GET /api/apps/{app}/hits", s.admin(s.hits))
	s.mux.Handle("GET /api/apps/{app}/facets", s.admin(s.facets))
	s.mux.Handle("GET /api/lines/{id}", s.admin(s.line))
	s.mux.Handle("GET /api/lines/{id}/context", s.admin(s.context))
	s.mux.Handle("GET /api/apps/{app}/metrics", s.admin(s.metricsHistory))
	s.alertRoutes()
	s.mux.Handle("GET /api/apps/{app}/metrics/range", s.admin(s.metricsRange))
	if s.cfg.LogsQL != nil {
		s.logsqlRoutes()
	}
	if s.cfg.UI != nil {
		s.mux.Handle("/ui/", s.cfg.UI)
		s.mux.Handle("GET /{$}", s.cfg.UI)
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	if s.ready != nil && !s.ready() {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// adminKey marks a request's context as authenticated by an in-process caller.
type adminKey struct{}

// AsAdmin returns r marked as authenticated by its in-process caller: the admin API
// serves it without an admin token. The web UI calls the API this way for a user
// whose session it checked. Nothing a client sends can set the mark.
func AsAdmin(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), adminKey{}, true))
}

// admin wraps h with the admin token check. The token comes as a bearer token,
// or as the password of Basic auth (any user name), which is what Grafana's
// data sources and vlogscli's -username/-password send.
func (s *Server) admin(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Value(adminKey{}) == true {
			h(w, r)
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			_, token, ok = r.BasicAuth()
		}
		sum := sha256.Sum256([]byte(token))
		if !ok || len(s.cfg.AdminTokenHash) != sha256.Size || subtle.ConstantTimeCompare(sum[:], s.cfg.AdminTokenHash) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="drainpipe admin"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong admin token: pass --token or DRAINPIPE_TOKEN, or run on the server's machine where <data>/admin-token is read")
			return
		}
		h(w, r)
	})
}

var _ http.Handler = (*Server)(nil)
