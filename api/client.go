package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/metrics"
)

// Client talks to a drainpipe server's admin API.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// NewClient returns a client of the server at base (http://127.0.0.1:8080).
func NewClient(base, token string) *Client {
	return &Client{base: strings.TrimSuffix(base, "/"), token: token, http: &http.Client{}}
}

// AddDrain adds a drain, or returns the app's existing one (Existing set).
func (c *Client) AddDrain(ctx context.Context, req AddDrainRequest) (Drain, error) {
	var d Drain
	err := c.do(ctx, http.MethodPost, "/api/drains", req, &d)
	return d, err
}

// SetHeroku records app's drain registration on Heroku.
func (c *Client) SetHeroku(ctx context.Context, app string, h drainpipe.HerokuDrain) (Drain, error) {
	var d Drain
	err := c.do(ctx, http.MethodPut, "/api/drains/"+url.PathEscape(app)+"/heroku", h, &d)
	return d, err
}

// Drain returns app's drain.
func (c *Client) Drain(ctx context.Context, app string) (Drain, error) {
	var d Drain
	err := c.do(ctx, http.MethodGet, "/api/drains/"+url.PathEscape(app), nil, &d)
	return d, err
}

// Drains lists the drains.
func (c *Client) Drains(ctx context.Context) ([]Drain, error) {
	var ds []Drain
	err := c.do(ctx, http.MethodGet, "/api/drains", nil, &ds)
	return ds, err
}

// RemoveDrain removes app's drain and returns it.
func (c *Client) RemoveDrain(ctx context.Context, app string) (Drain, error) {
	var d Drain
	err := c.do(ctx, http.MethodDelete, "/api/drains/"+url.PathEscape(app), nil, &d)
	return d, err
}

// Tail returns app's newest n lines, oldest first.
func (c *Client) Tail(ctx context.Context, app string, n int) ([]Line, error) {
	var ls Lines
	err := c.do(ctx, http.MethodGet, "/api/apps/"+url.PathEscape(app)+"/tail?n="+strconv.Itoa(n), nil, &ls)
	return ls.Lines, err
}

// After returns app's lines after the line with id after, oldest first, waiting up
// to wait for the first of them.
func (c *Client) After(ctx context.Context, app string, after int64, wait time.Duration) ([]Line, error) {
	q := url.Values{"after": {strconv.FormatInt(after, 10)}, "wait": {wait.String()}}
	var ls Lines
	err := c.do(ctx, http.MethodGet, "/api/apps/"+url.PathEscape(app)+"/lines?"+q.Encode(), nil, &ls)
	return ls.Lines, err
}

// SearchQuery is what Search looks for.
type SearchQuery struct {
	App          string
	Match        string // a LogsQL filter (see package archive)
	Since, Until time.Time
	Limit        int
	Before       int64 // page: only lines with smaller ids
}

// Search returns the lines matching q, newest first.
func (c *Client) Search(ctx context.Context, q SearchQuery) ([]Line, error) {
	v := url.Values{"q": {q.Match}}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Before > 0 {
		v.Set("before", strconv.FormatInt(q.Before, 10))
	}
	var ls Lines
	err := c.do(ctx, http.MethodGet, "/api/apps/"+url.PathEscape(q.App)+"/search?"+v.Encode(), nil, &ls)
	return ls.Lines, err
}

// do sends one request and decodes the answer into out; an error answer becomes an
// error holding the server's sentence.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("server URL %q: %w", c.base, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return fmt.Errorf("cannot reach the drainpipe server at %s (is `drainpipe serve` running? set --server or DRAINPIPE_SERVER): %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e Error
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return &StatusError{Code: resp.StatusCode, Message: e.Error}
		}
		return &StatusError{Code: resp.StatusCode, Message: strings.TrimSpace(string(data))}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer of %s %s: %w", method, path, err)
	}
	return nil
}

// StatusError is an error answer of the server.
type StatusError struct {
	Code    int
	Message string
}

// Error is the server's sentence, or the status when it sent none.
func (e *StatusError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("the server answered %d %s", e.Code, http.StatusText(e.Code))
	}
	return e.Message
}

// Metrics returns app's metrics over [since, until), one series per name and
// source, for names starting with prefix.
func (c *Client) Metrics(ctx context.Context, app string, since, until time.Time, prefix string) ([]metrics.Series, error) {
	v := url.Values{"name": {prefix}}
	if !since.IsZero() {
		v.Set("since", since.Format(time.RFC3339Nano))
	}
	if !until.IsZero() {
		v.Set("until", until.Format(time.RFC3339Nano))
	}
	var out []metrics.Series
	err := c.do(ctx, http.MethodGet, "/api/apps/"+url.PathEscape(app)+"/metrics?"+v.Encode(), nil, &out)
	return out, err
}
