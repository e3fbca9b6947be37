package ui

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe/api"
)

// handlerTransport is an http.RoundTripper that serves each request with a
// handler in this process: the UI is a client of the admin API (api.Client)
// without a network hop or a token. The answer streams through a pipe, so a
// long one is never held whole; a handler that aborts its answer (a failed
// stream panics with http.ErrAbortHandler) breaks the body, as a cut
// connection would.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	pr, pw := io.Pipe()
	rw := &pipeResponse{header: http.Header{}, body: pw, started: make(chan struct{})}
	go func() {
		defer func() {
			if v := recover(); v != nil {
				err, _ := v.(error)
				if err == nil {
					err = fmt.Errorf("handler panic: %v", v)
				}
				rw.start(http.StatusInternalServerError)
				pw.CloseWithError(err)
				return
			}
			rw.start(http.StatusOK)
			pw.Close()
		}()
		t.h.ServeHTTP(rw, req)
	}()
	select {
	case <-rw.started:
	case <-req.Context().Done():
		pr.CloseWithError(req.Context().Err())
		return nil, req.Context().Err()
	}
	return &http.Response{
		Status: strconv.Itoa(rw.code) + " " + http.StatusText(rw.code), StatusCode: rw.code,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rw.sent, Body: pr, ContentLength: -1, Request: req,
	}, nil
}

// pipeResponse is the ResponseWriter of an in-process request: its status and
// headers are handed over at the first write, the body through the pipe.
type pipeResponse struct {
	header, sent http.Header
	body         *io.PipeWriter
	code         int
	once         sync.Once
	started      chan struct{}
}

func (r *pipeResponse) Header() http.Header { return r.header }

func (r *pipeResponse) WriteHeader(code int) { r.start(code) }

func (r *pipeResponse) start(code int) {
	r.once.Do(func() {
		r.code, r.sent = code, r.header.Clone()
		close(r.started)
	})
}

func (r *pipeResponse) Write(p []byte) (int, error) {
	r.start(http.StatusOK)
	return r.body.Write(p)
}

// FlushError and SetWriteDeadline let handlers that stream use
// http.ResponseController: the pipe hands each write over at once, and the
// reader's context bounds the wait.
func (r *pipeResponse) FlushError() error { return nil }

func (r *pipeResponse) SetWriteDeadline(time.Time) error { return nil }

// appCache keeps the list of apps for the app switcher of every page for a few
// seconds: the drain listing also asks every sink and the archive about each app.
type appCache struct {
	api *api.Client
	ttl time.Duration
	now func() time.Time

	mu     sync.Mutex
	at     time.Time
	drains []api.Drain
}

// list returns the drains, at most ttl old.
func (c *appCache) list(r *http.Request) ([]api.Drain, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.drains != nil && c.now().Sub(c.at) < c.ttl {
		return c.drains, nil
	}
	ds, err := c.api.Drains(r.Context())
	if err != nil {
		return nil, err
	}
	c.drains, c.at = ds, c.now()
	return ds, nil
}

// forget drops the cached list after a change.
func (c *appCache) forget() {
	c.mu.Lock()
	c.drains = nil
	c.mu.Unlock()
}

// names returns the apps' names, sorted as the listing is.
func (c *appCache) names(r *http.Request) []string {
	ds, err := c.list(r)
	if err != nil {
		return nil
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.App
	}
	return out
}
