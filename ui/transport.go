package ui

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/drainpipe/drainpipe/api"
)

// handlerTransport is an http.RoundTripper that serves each request with a
// handler in this process: the UI is a client of the admin API (api.Client)
// without a network hop or a token.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := &recorder{header: http.Header{}}
	t.h.ServeHTTP(rec, req)
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	return &http.Response{
		Status: strconv.Itoa(rec.code) + " " + http.StatusText(rec.code), StatusCode: rec.code,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rec.header, Body: io.NopCloser(&rec.body), ContentLength: int64(rec.body.Len()), Request: req,
	}, nil
}

// recorder is the ResponseWriter of an in-process request.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}

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
