package awsemu

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Listener serves a double on a real socket, so that the SDK (or a process the
// test starts) reaches it as it reaches AWS, and Close makes the service
// unreachable while the double keeps its state. Every double of an AWS service
// (cloudwatch/cwlemu too) serves through one. Its zero value is ready to use.
type Listener struct {
	mu   sync.Mutex
	http *http.Server
}

// Serve serves h on addr ("127.0.0.1:0") until Close and returns the base URL
// for the SDK's BaseEndpoint. A Listener serves one socket at a time.
func (l *Listener) Serve(addr string, h http.Handler) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.http != nil {
		return "", errors.New("listen: already listening")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	l.http = hs
	go func() { _ = hs.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// Close stops listening and drops open connections; Serve may be called again.
func (l *Listener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.http == nil {
		return nil
	}
	err := l.http.Close()
	l.http = nil
	if err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}
