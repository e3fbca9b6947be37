// Package awsemu is what drainpipe's doubles of AWS services that speak the AWS
// JSON protocols (awsJson1_0, awsJson1_1) share: one POST / per call naming its
// operation in X-Amz-Target, a SigV4 Authorization header required (its
// signature is not checked), errors as {"__type", "message"}, and the faults a
// test injects (an outage, latency, throttling, server errors).
//
// Each double (ssm/ssmemu, dynamodb/ddbemu) keeps its own wire structs and
// behaviour; this package only carries requests to its Handler and answers.
// CloudWatch Logs' older double (cloudwatch/cwlemu), whose checks and faults
// differ per operation, routes its own calls and shares only the Listener.
package awsemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe/internal/backoff"
)

// Error is an answer instead of a result: an HTTP status, the error code the SDK
// turns into a typed error, and the message.
type Error struct {
	Status  int
	Code    string
	Message string
	// Extra members of the error's body, such as DynamoDB's Item of a failed condition.
	Extra map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ClientError is a 400 answer.
func ClientError(code, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: msg}
}

// Handler answers one call: op is the operation named by X-Amz-Target, body its
// JSON. A nil result answers an empty object.
type Handler func(op string, body []byte) (any, *Error)

// Options configures a Server.
type Options struct {
	// Target is the X-Amz-Target prefix, "AmazonSSM." or "DynamoDB_20120810.".
	Target string
	// ContentType is "application/x-amz-json-1.0" or "-1.1".
	ContentType string
	// ErrorPrefix is put before error codes in __type ("com.amazonaws.dynamodb.v20120810#").
	ErrorPrefix string
	// CRC32 adds the X-Amz-Crc32 header DynamoDB sends (and its SDK checks).
	CRC32 bool
	// MaxBody bounds a request body; past it the call is refused with a 413.
	MaxBody int64
	// Seed makes the random faults repeatable.
	Seed int64
	// Handle answers the calls.
	Handle Handler
}

// Faults are the failures the server injects in front of every operation.
type Faults struct {
	// Down answers every call 503 ServiceUnavailable.
	Down bool
	// Latency delays every answer.
	Latency time.Duration
	// ThrottleRate is the probability (0..1) of a ThrottlingException (HTTP 400).
	ThrottleRate float64
	// ServerErrorRate is the probability (0..1) of an InternalServerError (HTTP 500).
	ServerErrorRate float64
}

// Server carries a double's calls to its Handler; it is an http.Handler, and
// Listen serves it on a socket. Its methods are safe for concurrent use.
type Server struct {
	opt Options

	mu      sync.Mutex
	calls   map[string]int
	faults  Faults
	rng     *rand.Rand
	counter uint64

	lis Listener
}

var _ http.Handler = (*Server)(nil)

// New returns a server with no faults.
func New(opt Options) *Server {
	return &Server{opt: opt, calls: map[string]int{}, rng: rand.New(rand.NewPCG(uint64(opt.Seed), 0x617773656d75))}
}

// SetFaults replaces the faults in force; the zero Faults turns them off.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Calls returns how many calls each operation received, faulted ones included.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// Listen serves on addr ("127.0.0.1:0") until Close and returns the base URL
// for the SDK's BaseEndpoint (or AWS_ENDPOINT_URL_<SERVICE>).
func (s *Server) Listen(addr string) (string, error) { return s.lis.Serve(addr, s) }

// Close stops listening and drops open connections; the double's state stays.
func (s *Server) Close() error { return s.lis.Close() }

// ServeHTTP answers one call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-RequestId", s.requestID())
	out, aerr := s.serve(r)
	if aerr == nil && out == nil {
		out = struct{}{}
	}
	var body []byte
	if aerr == nil {
		var err error
		if body, err = json.Marshal(out); err != nil {
			aerr = &Error{Status: http.StatusInternalServerError, Code: "InternalServerError", Message: err.Error()}
		}
	}
	status := http.StatusOK
	if aerr != nil {
		status = aerr.Status
		w.Header().Set("X-Amzn-ErrorType", aerr.Code)
		doc := map[string]any{"__type": s.opt.ErrorPrefix + aerr.Code, "message": aerr.Message}
		for k, v := range aerr.Extra {
			doc[k] = v
		}
		body, _ = json.Marshal(doc)
	}
	w.Header().Set("Content-Type", s.opt.ContentType)
	if s.opt.CRC32 {
		w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// serve applies what every call meets (operation, faults, credentials, size),
// then the double's handler.
func (s *Server) serve(r *http.Request) (any, *Error) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), s.opt.Target)
	if r.Method != http.MethodPost || !ok || op == "" {
		return nil, ClientError("UnknownOperationException", "")
	}
	f := s.count(op)
	if err := backoff.Sleep(r.Context(), f.Latency); err != nil {
		return nil, &Error{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable", Message: "Request cancelled"}
	}
	if f.Down {
		return nil, &Error{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable", Message: "Service Unavailable"}
	}
	if !strings.Contains(r.Header.Get("Authorization"), "Credential=") {
		return nil, ClientError("UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	if aerr := s.randomFault(f); aerr != nil {
		return nil, aerr
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, s.opt.MaxBody))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: "RequestEntityTooLargeException", Message: "Request entity too large"}
		}
		return nil, ClientError("SerializationException", err.Error())
	}
	return s.opt.Handle(op, body)
}

func (s *Server) count(op string) Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	return s.faults
}

func (s *Server) randomFault(f Faults) *Error {
	if f.ThrottleRate <= 0 && f.ServerErrorRate <= 0 {
		return nil
	}
	s.mu.Lock()
	u := s.rng.Float64()
	s.mu.Unlock()
	switch {
	case u < f.ThrottleRate:
		return ClientError("ThrottlingException", "Rate exceeded")
	case u < f.ThrottleRate+f.ServerErrorRate:
		return &Error{Status: http.StatusInternalServerError, Code: "InternalServerError", Message: "Internal server error"}
	}
	return nil
}

func (s *Server) requestID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counter++
	return fmt.Sprintf("awsemu-%016x", s.counter)
}

// Decode reads a request body into in, answering a SerializationException when
// it is not the JSON the operation takes.
func Decode(body []byte, in any) *Error {
	if err := json.Unmarshal(body, in); err != nil {
		return ClientError("SerializationException", "Unable to parse request body: "+err.Error())
	}
	return nil
}
