package cwlemu

import (
	"crypto/subtle"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// Faults are the failures the service injects, for testing a client's retries.
type Faults struct {
	// ThrottleRate is the probability (0..1) that a PutLogEvents or Create* request
	// answers ThrottlingException "Rate exceeded" (HTTP 400).
	ThrottleRate float64
	// ServerErrorRate is the probability (0..1) that a PutLogEvents or Create*
	// request answers ServiceUnavailableException with HTTP 500. One random draw
	// decides both: a request is throttled or fails, never both.
	ServerErrorRate float64
	// Latency delays every answer.
	Latency time.Duration
	// Down answers every request ServiceUnavailableException with HTTP 503.
	Down bool
}

// SetFaults replaces the faults in force; the zero Faults turns them off.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// FailGroup makes every operation that names group answer HTTP 400 with code and
// message (for example "AccessDeniedException"), until FailGroup(group, "", "").
func (s *Server) FailGroup(group, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == "" {
		delete(s.failing, group)
		return
	}
	s.failing[group] = clientError(code, message)
}

// SetGroupQuota makes the account hold at most n log groups, as the service's
// per-account, per-region quota does: at the quota, CreateLogGroup answers
// LimitExceededException "Resource limit exceeded." (HTTP 400) until groups are
// deleted or the quota is raised. Groups already past it are kept. 0 removes it.
func (s *Server) SetGroupQuota(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groupQuota = n
}

// RejectAccessKey makes requests signed with the access key id answer
// UnrecognizedClientException, as for revoked credentials; "" clears the list.
func (s *Server) RejectAccessKey(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		clear(s.rejectKeys)
		return
	}
	s.rejectKeys[id] = true
}

func (s *Server) keyRejected(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	rejected := false
	for k := range s.rejectKeys {
		if subtle.ConstantTimeCompare([]byte(k), []byte(key)) == 1 {
			rejected = true
		}
	}
	return rejected
}

func (s *Server) groupFailure(name string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failing[name]
}

// randomFault draws the throttling and server faults for the operations they apply to.
func (s *Server) randomFault(op string) *apiError {
	if op != "PutLogEvents" && !strings.HasPrefix(op, "Create") {
		return nil
	}
	s.mu.Lock()
	f := s.faults
	if f.ThrottleRate <= 0 && f.ServerErrorRate <= 0 {
		s.mu.Unlock()
		return nil
	}
	u := s.rng.Float64()
	s.mu.Unlock()
	switch {
	case u < f.ThrottleRate:
		return clientError("ThrottlingException", "Rate exceeded")
	case u < f.ThrottleRate+f.ServerErrorRate:
		return &apiError{status: http.StatusInternalServerError, code: "ServiceUnavailableException", msg: "The service is unavailable. Please try again later."}
	}
	return nil
}

func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x636c776c656d75))
}
