// Package httpd is drainpipe's HTTP side: the Heroku drain receiver (POST /logs),
// the OpenTelemetry receiver of Heroku Fir's telemetry drains (POST /v1/logs and
// /v1/metrics, see package otlp), the admin API (/api/..., see package api),
// liveness (/healthz), readiness (/readyz) and Prometheus metrics (/metrics).
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
	"github.com/drainpipe/drainpipe/otlp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Journal is where accepted batches go; Append returns once the batch is durable.
type Journal interface {
	Append(ctx context.Context, b *drainpipe.Batch) (duplicate bool, err error)
}

// Drains is the drain store. Its Health (see Authenticator) fails when the store
// lost its drains: unknown credentials are then a 503, not a 401.
type Drains interface {
	Authenticator
	ByApp(app string) (drainpipe.Drain, bool)
	List() []drainpipe.Drain
	Add(ctx context.Context, d drainpipe.Drain) (drainpipe.Drain, bool, error)
	Update(ctx context.Context, d drainpipe.Drain) error
	Remove(ctx context.Context, id string) error
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
	// Live is nil while the process can go on serving; an error (its journal
	// was lost under it) makes /healthz answer 503 with it, so that a
	// supervisor restarts the process. Nil checks nothing.
	Live func() error
	// StoreName is what Journal stores batches in, as the answers of a failed
	// append name it: "journal" by default; "CloudWatch" for AWS Lambda, which
	// has no journal.
	StoreName string
	// ParseInPlace lets the records of a logplex body point into the request's
	// body buffer, which is reused once Append returns, instead of into a copy of
	// the body (a fifth of the ingest path's allocations). Set it only for a
	// Journal that keeps nothing of a batch once Append returns: journal.Journal
	// encodes it before.
	ParseInPlace bool
	Drains       Drains
	Archive      Archive
	// Reader answers the searches, tails, exports, contexts, histograms and facets.
	Reader Reader
	// LogsQL answers VictoriaLogs' query API (/select/logsql/...); nil turns it off.
	LogsQL LogsQL
	// Sinks report their status in the drain listing.
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
	// MaxBodyInFlight caps the bytes of request bodies held at once, across every
	// connection (their buffers, from the first byte read until the answer); what
	// a request costs beyond its body (parsed records, the journal's encoding) is
	// proportional to it, so this bounds the ingest path's memory and how many
	// requests it works on at once. One body at a time may take room beyond it,
	// up to MaxBody, so a body larger than the budget still passes (see
	// bodyBudget). Default 4 MiB: 32 of logplex's ~100 KB batches.
	MaxBodyInFlight int64
	// BodyWait bounds a request's wait for room in MaxBodyInFlight, before it is
	// answered 503 with Retry-After. Default 2 s.
	BodyWait time.Duration
	// AppendTimeout bounds the wait for the journal, below logplex's 5 s, so a slow
	// journal is answered with a 503 that logplex retries. Default 4 s.
	AppendTimeout time.Duration
	// BodyTimeout bounds reading an authenticated drain request's body (/logs,
	// /v1/logs, /v1/metrics); an unauthenticated one is answered 401 without
	// reading it. Default 30 s.
	BodyTimeout time.Duration
	// OTLP journals OpenTelemetry exports (POST /v1/logs, /v1/metrics); nil makes
	// one on Journal, registered on Registerer. Pass one to share it with the gRPC
	// transport.
	OTLP       *otlp.Receiver
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// Now is the clock; tests set it. Default time.Now.
	Now func() time.Time
	// Ready says whether drains can be taken now: nil, or why not (the journal
	// cannot write). /readyz answers 503 with that reason; nil Ready is always ready.
	Ready func() error
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
	otlp    *otlp.Receiver
	// selects holds a token for each LogsQL query running; see selectLimit.
	selects chan struct{}
	// budget bounds the bytes of request bodies in flight; see bodyBudget.
	budget *bodyBudget
}

// New builds the server. ready reports whether /healthz answers 200.
func New(cfg Config, ready func() bool) *Server {
	s := newServer(cfg)
	s.ready, s.mux, s.selects = ready, http.NewServeMux(), make(chan struct{}, maxSelects)
	if s.otlp == nil {
		rc, err := otlp.NewReceiver(otlp.ReceiverConfig{Journal: s.cfg.Journal, AppendTimeout: s.cfg.AppendTimeout,
			Now: s.cfg.Now, Logger: s.cfg.Logger, Registerer: s.cfg.Registerer})
		if err != nil {
			panic(err) // a second registration on one registry, as MustRegister would
		}
		s.otlp = rc
	}
	s.routes()
	return s
}

// newServer is what every endpoint needs: the configuration with its defaults,
// and the receiver's metrics. NewReceiver, which serves the drain endpoint
// alone, stops here.
func newServer(cfg Config) *Server {
	if cfg.StoreName == "" {
		cfg.StoreName = "journal"
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 8 << 20
	}
	if cfg.MaxBodyInFlight == 0 {
		cfg.MaxBodyInFlight = 4 << 20
	}
	if cfg.BodyWait == 0 {
		cfg.BodyWait = 2 * time.Second
	}
	if cfg.AppendTimeout == 0 {
		cfg.AppendTimeout = 4 * time.Second
	}
	if cfg.BodyTimeout == 0 {
		cfg.BodyTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: newReceiverMetrics(cfg.Registerer), otlp: cfg.OTLP}
	s.budget = newBodyBudget(cfg.MaxBodyInFlight, max(cfg.MaxBody+1, poolMax), cfg.Registerer)
	return s
}

func (s *Server) routes() {
	s.mux.HandleFunc("/logs", s.receive)
	s.mux.HandleFunc("/logs/", s.receive)
	s.mux.HandleFunc("POST /v1/logs", s.otlpLogs)
	s.mux.HandleFunc("POST /v1/metrics", s.otlpMetrics)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
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
	s.mux.Handle("GET /api/apps/{app}/export", s.admin(atMost(maxExports, refuseExport, s.export)))
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
	if err := s.cfg.Drains.Health(); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	if s.cfg.Live != nil {
		if err := s.cfg.Live(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz says whether a drain request would be taken now. /healthz says the
// process is alive (restart it when that fails); /readyz says whether to send it
// traffic, and why not: the journal is full or its disk is.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.ready != nil && !s.ready() {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("starting\n"))
		return
	}
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(); err != nil {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: " + err.Error() + "\n"))
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
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
		if !ok || token == "" || len(s.cfg.AdminTokenHash) != sha256.Size || subtle.ConstantTimeCompare(sum[:], s.cfg.AdminTokenHash) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="drainpipe admin"`)
			dropBody(w) // answered without reading the body
			writeError(w, http.StatusUnauthorized, "missing or wrong admin token: send it as a Bearer token or as the password of Basic auth (Grafana, vlogscli, curl); "+
				"the CLI takes --token or DRAINPIPE_TOKEN, or reads <data>/admin-token on the server's machine")
			return
		}
		h(w, r)
	})
}

var _ http.Handler = (*Server)(nil)
