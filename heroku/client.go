package heroku

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/drainpipe/drainpipe/internal/backoff"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultBaseURL is the Platform API's address.
const DefaultBaseURL = "https://api.heroku.com"

// accept selects version 3 of the Platform API, the only one Heroku serves.
const accept = "application/vnd.heroku+json; version=3"

// maxBody bounds how much of an answer is read: a list of drains is a few KB.
const maxBody = 4 << 20

// Config configures a Client. Only APIKey is required.
type Config struct {
	// BaseURL is the API's address; DefaultBaseURL when empty.
	BaseURL string
	// APIKey is the key sent as a Bearer token (see APIKeyFromEnv).
	APIKey string
	// HTTPClient sends the requests; a client with a 30 s timeout when nil.
	HTTPClient *http.Client
	// Logger receives a debug line per request and a warning per retry; never the key.
	Logger *slog.Logger
	// UserAgent names the caller to Heroku; "drainpipe" when empty.
	UserAgent string
	// MaxAttempts bounds the tries of one call on 429 (and on 5xx and transport
	// errors for reads); 4 when zero, and 1 or less means no retries.
	MaxAttempts int
	// RetryWait is the first wait before a retry; it doubles with each retry, with
	// jitter, up to 16 times itself. 2 s when zero.
	RetryWait time.Duration
	// LowRemaining is the RateLimit-Remaining under which the client spaces its
	// requests by MinInterval, so a loop over many apps slows down instead of
	// hitting the wall; 100 when zero, and negative turns the spacing off.
	LowRemaining int
	// MinInterval is the spacing used when the remaining budget is low; 800 ms when
	// zero, the rate at which Heroku refills 4,500 requests an hour.
	MinInterval time.Duration
}

// String describes the configuration without its API key, so printing a Config
// cannot leak the key.
func (c Config) String() string {
	key := "unset"
	if c.APIKey != "" {
		key = "set"
	}
	return fmt.Sprintf("heroku.Config{BaseURL:%q APIKey:%s}", c.BaseURL, key)
}

// LogValue logs the configuration without its API key.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.BaseURL), slog.Bool("api_key_set", c.APIKey != ""))
}

// Client calls the Platform API's log-drain endpoints. It is safe for concurrent use.
type Client struct {
	base         string
	key          string
	hc           *http.Client
	log          *slog.Logger
	ua           string
	maxAttempts  int
	retryWait    time.Duration
	lowRemaining int64
	minInterval  time.Duration
	// remaining is the last RateLimit-Remaining Heroku reported, -1 before any.
	remaining atomic.Int64
}

// NewClient returns a client for cfg, or an error when the key is missing or the
// base URL is not an absolute http(s) URL.
func NewClient(cfg Config) (*Client, error) {
	if cfg.APIKey == "" {
		return nil, ErrNoAPIKey
	}
	if strings.ContainsFunc(cfg.APIKey, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		// The key itself stays out of the message.
		return nil, errors.New("heroku API key holds spaces or control characters: check HEROKU_API_KEY or ~/.netrc")
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("heroku base URL %q: want an absolute http(s) URL", base)
	}
	c := &Client{
		base:         strings.TrimSuffix(u.String(), "/"),
		key:          cfg.APIKey,
		hc:           cfg.HTTPClient,
		log:          cfg.Logger,
		ua:           cmp.Or(cfg.UserAgent, "drainpipe"),
		maxAttempts:  cmp.Or(cfg.MaxAttempts, 4),
		retryWait:    cmp.Or(cfg.RetryWait, 2*time.Second),
		lowRemaining: int64(cmp.Or(cfg.LowRemaining, 100)),
		minInterval:  cmp.Or(cfg.MinInterval, 800*time.Millisecond),
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 30 * time.Second}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.remaining.Store(-1)
	return c, nil
}

// call is one API operation: what it is about, for errors and logs, and how to send it.
type call struct {
	op     string // "create log drain": names the operation in logs and errors
	method string
	app    string
	drain  string // the drain reference as given; redacted before it is shown
	body   any
	// retryFaults allows retries on 5xx and transport errors: only for reads,
	// because a write that failed that way may still have happened.
	retryFaults bool
}

// path is the request path, each name escaped so a drain URL travels as one segment.
func (c call) path() string {
	p := "/apps/" + url.PathEscape(c.app) + "/log-drains"
	if c.drain != "" {
		p += "/" + url.PathEscape(c.drain)
	}
	return p
}

// do runs the call, retrying as the call allows, and decodes a 2xx answer into out.
func (c *Client) do(ctx context.Context, k call, out any) error {
	var body []byte
	if k.body != nil {
		var err error
		if body, err = json.Marshal(k.body); err != nil {
			return fmt.Errorf("%s: encode request: %w", k.op, err)
		}
	}
	for attempt := 1; ; attempt++ {
		if err := c.pace(ctx); err != nil {
			return fmt.Errorf("%s: %w", k.op, err)
		}
		status, hdr, data, err := c.send(ctx, k, body)
		retry, result := c.judge(k, status, data, err)
		if !retry || attempt >= c.maxAttempts || ctx.Err() != nil {
			if result == nil && out != nil {
				if err := json.Unmarshal(data, out); err != nil {
					return fmt.Errorf("%s: decode answer: %w", k.op, err)
				}
			}
			return result
		}
		wait := c.backoff(attempt, hdr)
		c.log.Warn("heroku api call failed, retrying", "op", k.op, "app", k.app,
			"attempt", attempt, "wait", wait, "err", result)
		if err := backoff.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s: %w (after: %w)", k.op, err, result)
		}
	}
}

// send makes one request. It never returns the *url.Error of net/http as is, because
// that prints the request URL, whose path may hold a drain URL with its password.
func (c *Client) send(ctx context.Context, k call, body []byte) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, c.base+k.path(), rd)
	if err != nil {
		return 0, nil, nil, errors.New("build request: invalid app or drain name")
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("User-Agent", c.ua)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read answer: %w", err)
	}
	c.noteRemaining(resp.Header)
	c.log.Debug("heroku api", "op", k.op, "app", k.app, "drain", redact(k.drain),
		"status", resp.StatusCode, "ratelimit_remaining", resp.Header.Get("RateLimit-Remaining"))
	return resp.StatusCode, resp.Header, data, nil
}

// judge turns one outcome into the call's result and says whether to try again.
func (c *Client) judge(k call, status int, data []byte, err error) (bool, error) {
	if err != nil {
		return k.retryFaults, fmt.Errorf("%s for app %q: %w", k.op, k.app, err)
	}
	if status >= 200 && status < 300 {
		return false, nil
	}
	apiErr := &Error{Status: status, App: k.app, Drain: redact(k.drain)}
	var body struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &body) == nil {
		apiErr.ID, apiErr.Message = body.ID, cleanMessage(body.Message)
	}
	switch {
	case status == http.StatusTooManyRequests:
		return true, apiErr
	case status >= 500:
		return k.retryFaults, apiErr
	}
	return false, apiErr
}

// noteRemaining records the rate-limit budget Heroku reported.
func (c *Client) noteRemaining(h http.Header) {
	if v, err := strconv.ParseInt(strings.TrimSpace(h.Get("RateLimit-Remaining")), 10, 64); err == nil && v >= 0 {
		c.remaining.Store(v)
	}
}

// redact hides the password of a drain URL; ids and tokens pass unchanged.
func redact(ref string) string {
	if u, err := url.Parse(ref); err == nil && u.User != nil {
		return u.Redacted()
	}
	return ref
}
