package cwlemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe/internal/awsemu"
	"github.com/drainpipe/drainpipe/internal/backoff"
)

const (
	targetPrefix = "Logs_20140328."
	contentType  = "application/x-amz-json-1.1"
	// maxBody bounds what one request may send. A full PutLogEvents batch is 1 MiB of
	// messages, which JSON escaping can at most multiply by six.
	maxBody = 8 << 20
	// account is the AWS account id the emulator's ARNs name.
	account = "123456789012"
)

// Options configures a Server.
type Options struct {
	// Now is the service's clock, used for ingestion times and for the too-new,
	// too-old and retention rules. Default time.Now.
	Now func() time.Time
	// Seed makes the random faults of SetFaults repeatable.
	Seed int64
}

// Server is an in-process CloudWatch Logs service. It is an http.Handler; Listen
// also serves it on a real socket. All methods are safe for concurrent use.
type Server struct {
	now  func() time.Time
	seed int64

	mu         sync.Mutex
	groups     map[string]*group
	calls      map[string]int
	faults     Faults
	rng        *rand.Rand
	failing    map[string]*apiError
	rejectKeys map[string]bool
	groupQuota int // log groups the account may hold; 0: no quota
	counter    uint64

	lis awsemu.Listener
}

var _ http.Handler = (*Server)(nil)

// New returns an empty service: no log groups, no faults.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{now: opts.Now, seed: opts.Seed}
	s.Reset()
	return s
}

// Listen serves the emulator on addr (for example "127.0.0.1:0") until Close, and
// returns its base URL for the SDK's BaseEndpoint.
func (s *Server) Listen(addr string) (string, error) { return s.lis.Serve(addr, s) }

// Close stops listening and drops open connections, so clients see the service
// unreachable. The stored logs are kept: Listen again to resume.
func (s *Server) Close() error { return s.lis.Close() }

// call is one request on its way through the service.
type call struct {
	op     string
	region string
	body   []byte
}

// ServeHTTP answers one request of the CloudWatch Logs JSON protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-RequestId", s.requestID())
	out, aerr := s.serve(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	w.Header().Set("Content-Type", contentType)
	if out == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		writeError(w, &apiError{status: http.StatusInternalServerError, code: "InternalFailure", msg: err.Error()})
		return
	}
	_, _ = w.Write(body)
}

// serve runs a request through the checks every request meets, in the order the
// service is thought to apply them (see the package doc), then its operation.
func (s *Server) serve(r *http.Request) (any, *apiError) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if r.Method != http.MethodPost || !ok || op == "" {
		return nil, clientError("UnknownOperationException", "")
	}
	faults := s.count(op)
	if err := backoff.Sleep(r.Context(), faults.Latency); err != nil {
		return nil, &apiError{status: http.StatusServiceUnavailable, code: "ServiceUnavailableException", msg: "Request cancelled"}
	}
	if faults.Down {
		return nil, &apiError{status: http.StatusServiceUnavailable, code: "ServiceUnavailableException", msg: "Service Unavailable"}
	}
	c := &call{op: op}
	if aerr := s.authenticate(r, c); aerr != nil {
		return nil, aerr
	}
	h, ok := operations[op]
	if !ok {
		return nil, clientError("UnknownOperationException", "")
	}
	if aerr := s.randomFault(op); aerr != nil {
		return nil, aerr
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: "RequestEntityTooLargeException", msg: "Request entity too large"}
		}
		return nil, serialization(err)
	}
	c.body = body
	return h(s, c)
}

// count records the request under its operation and returns the faults in force.
func (s *Server) count(op string) Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	return s.faults
}

// authenticate requires a SigV4 Authorization header, whose signature it does not
// check, and refuses the access key ids given to RejectAccessKey.
func (s *Server) authenticate(r *http.Request, c *call) *apiError {
	denied := clientError("UnrecognizedClientException", "The security token included in the request is invalid.")
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return denied
	}
	key, region := credentialScope(auth)
	c.region = region
	if c.region == "" {
		c.region = "us-east-1"
	}
	if s.keyRejected(key) {
		return denied
	}
	return nil
}

// credentialScope extracts the access key id and region from
// "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/logs/aws4_request, ...".
func credentialScope(auth string) (key, region string) {
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", ""
	}
	rest, _, _ = strings.Cut(rest, ",")
	parts := strings.Split(strings.TrimSpace(rest), "/")
	if len(parts) >= 3 {
		return parts[0], parts[2]
	}
	return parts[0], ""
}

func (s *Server) requestID() string {
	s.mu.Lock()
	s.counter++
	n := s.counter
	s.mu.Unlock()
	return fmt.Sprintf("cwlemu-%016x", n)
}

func writeError(w http.ResponseWriter, e *apiError) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-ErrorType", e.code)
	w.WriteHeader(e.status)
	body, _ := json.Marshal(map[string]string{"__type": e.code, "message": e.msg})
	_, _ = w.Write(body)
}
