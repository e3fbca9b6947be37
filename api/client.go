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

// callTimeout bounds a call whose context has no deadline of its own: a server
// that stops answering fails the call instead of hanging the command.
const callTimeout = 2 * time.Minute

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

// After returns the lines of s.App after the line with id after, by id (the
// order they were stored in), waiting up to wait for the first of them: what
// `tail --follow` prints. s's query, source and dyno narrow them; its times
// do not. next is the id to follow from next time (past lines that did not
// match, too).
func (c *Client) After(ctx context.Context, s Search, after int64, wait time.Duration) (lines []Line, next int64, err error) {
	q := s.values()
	q.Del("since")
	q.Del("until")
	q.Set("after", strconv.FormatInt(after, 10))
	q.Set("wait", wait.String())
	var ls Lines
	ctx, cancel := context.WithTimeout(ctx, wait+time.Minute)
	defer cancel()
	err = c.do(ctx, http.MethodGet, "/api/apps/"+url.PathEscape(s.App)+"/lines?"+q.Encode(), nil, &ls)
	next = max(after, ls.After)
	if n := len(ls.Lines); n > 0 {
		next = max(next, ls.Lines[n-1].ID)
	}
	return ls.Lines, next, err
}

// do sends one request and decodes the answer into out; an error answer becomes an
// error holding the server's sentence.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, callTimeout)
		defer cancel()
	}
	resp, err := c.send(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return statusError(resp)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer of %s %s: %w", method, path, err)
	}
	return nil
}

// send sends one request with the admin token and returns the answer.
func (c *Client) send(ctx context.Context, method, path string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("server URL %q: %w", c.base, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, fmt.Errorf("cannot reach the drainpipe server at %s (is `drainpipe serve` running? set --server or DRAINPIPE_SERVER): %w", c.base, err)
	}
	return resp, nil
}

// statusError reads an error answer into a StatusError holding the server's sentence.
func statusError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var e Error
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		return &StatusError{Code: resp.StatusCode, Message: e.Error}
	}
	return &StatusError{Code: resp.StatusCode, Message: strings.TrimSpace(string(data))}
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

// NewClientWith is NewClient sending its requests through hc: the web UI passes
// one whose transport serves them in-process.
func NewClientWith(base, token string, hc *http.Client) *Client {
	c := NewClient(base, token)
	c.http = hc
	return c
}
