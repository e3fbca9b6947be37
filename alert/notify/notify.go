// Package notify holds the alert destinations, each speaking one service's public
// API: Slack incoming webhooks (slack+https://), PagerDuty Events API v2
// (pagerduty://ROUTING_KEY), a generic JSON webhook signed with HMAC-SHA256
// (webhook+https://...#secret=...), and e-mail over SMTP with STARTTLS and AUTH
// PLAIN (smtp://user:pass@host:587/?to=...&from=...).
//
// Destination URLs hold secrets (a webhook's path, a routing key, a password):
// nothing here puts one in an error or in a destination's String, which is what
// drainpipe shows and logs.
package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe/alert"
)

// DefaultPagerDutyURL is PagerDuty's Events API v2 endpoint.
const DefaultPagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// Options configure the destinations an Opener makes.
type Options struct {
	// HTTPClient sends webhook requests; nil uses one that follows no redirect and
	// takes proxies from the environment. Deadlines come from each Send's context.
	HTTPClient *http.Client
	// PagerDutyURL is the Events API v2 endpoint; DefaultPagerDutyURL when empty
	// (https://events.eu.pagerduty.com/v2/enqueue for the EU service region).
	PagerDutyURL string
	// TLSConfig is the base of the SMTP client's TLS configuration (its RootCAs,
	// for a private CA); ServerName is set per server.
	TLSConfig *tls.Config
	// HeloName is the name the SMTP client gives in EHLO; "localhost" when empty.
	HeloName string
	// Now is the clock of webhook signatures; time.Now when nil.
	Now func() time.Time
}

// Opener opens destination URLs; it implements alert.Opener.
type Opener struct {
	opt Options
}

var _ alert.Opener = (*Opener)(nil)

// NewOpener returns an Opener with opt's settings.
func NewOpener(opt Options) (*Opener, error) {
	if opt.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		opt.HTTPClient = &http.Client{
			Transport: tr,
			// A redirect would send the notification (and its signature) somewhere
			// the user did not name: the 3xx is reported instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if opt.PagerDutyURL == "" {
		opt.PagerDutyURL = DefaultPagerDutyURL
	}
	if err := checkEndpoint(opt.PagerDutyURL); err != nil {
		return nil, err
	}
	if opt.HeloName == "" {
		opt.HeloName = "localhost"
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Opener{opt: opt}, nil
}

// Open parses and checks a destination URL; it makes no connection.
func (o *Opener) Open(raw string) (alert.Destination, error) {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, errors.New("not a destination URL: want slack+https://, pagerduty://, webhook+https:// or smtp://")
	}
	switch strings.ToLower(scheme) {
	case "slack+https", "slack+http":
		return o.slack(raw)
	case "pagerduty":
		return o.pagerDuty(raw)
	case "webhook+https", "webhook+http":
		return o.webhook(raw)
	case "smtp", "smtps":
		return o.smtp(raw)
	}
	return nil, fmt.Errorf("unknown destination scheme %q: want slack+https, pagerduty, webhook+https (or webhook+http) or smtp", scheme)
}

// parse parses raw without ever echoing it: url.Parse's errors quote the URL.
func parse(raw, kind string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s destination: not a valid URL", kind)
	}
	return u, nil
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactPath keeps a URL's host and, when more segments follow, its first path
// segment: what tells destinations apart, without the tokens. A path of one
// segment may be the token itself, so it is hidden too.
func redactPath(scheme string, u *url.URL) string {
	out := scheme + "://" + u.Host
	path := strings.TrimPrefix(u.EscapedPath(), "/")
	first, _, more := strings.Cut(path, "/")
	switch {
	case more && first != "":
		out += "/" + first + "/***"
	case path != "":
		out += "/***"
	case u.RawQuery != "":
		out += "/?***"
	}
	return out
}

// endpoint is where a webhook destination posts: its URL, its redacted name, which
// stands in for the URL in every error, and the secrets to scrub from anything the
// server answers (a 404 page may quote the path, a 403 the token it refused).
type endpoint struct {
	url, name string
	secrets   secrets
}

// scrub removes the endpoint's secrets from s.
func (e endpoint) scrub(s string) string { return e.secrets.scrub(s) }

// secrets are the strings scrubbed from what a destination answers, longest
// first, so that a secret holding another is replaced whole, not in parts.
type secrets []string

// newSecrets returns the secrets among pieces, without the empty ones.
func newSecrets(pieces ...string) secrets {
	var out secrets
	for _, p := range pieces {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// scrub replaces every secret in s with ***.
func (sec secrets) scrub(s string) string {
	for _, x := range sec {
		s = strings.ReplaceAll(s, x, "***")
	}
	return s
}

// minPieceLen is the length under which a piece of a URL that may be a secret is
// not scrubbed: a path segment or query value such as "v1", "api" or "1" is no
// credential, and replacing it wherever it occurs would garble the message. The
// secrets a destination names as such (signing secret, routing key, password)
// are scrubbed whatever their length.
const minPieceLen = 4

// urlSecrets lists what a server could echo of u's secret parts: the path and
// each of its segments but the first of several (which the destination's name
// shows), the query and each of its values, each as written and unescaped, so
// that a token quoted alone or inside a JSON string is scrubbed too. Pieces
// shorter than minPieceLen are left out.
func urlSecrets(u *url.URL) []string {
	var out []string
	add := func(escaped string) {
		for _, p := range []string{escaped, unescapePath(escaped), unescapeQuery(escaped)} {
			if len(p) >= minPieceLen {
				out = append(out, p)
			}
		}
	}
	add(u.EscapedPath())
	path := strings.TrimPrefix(u.EscapedPath(), "/")
	if first, rest, more := strings.Cut(path, "/"); more && first != "" {
		path = rest // the first segment is shown (redactPath)
	}
	for _, seg := range strings.Split(path, "/") {
		add(seg)
	}
	add(u.RawQuery)
	for _, pair := range strings.FieldsFunc(u.RawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
		if _, v, ok := strings.Cut(pair, "="); ok {
			add(v)
		} else {
			add(pair) // a bare token: ?SECRET
		}
	}
	return out
}

// unescapePath and unescapeQuery decode a URL's escapes as a path's or a
// query's ('+' is a space in a query only); s as it is when it does not decode.
func unescapePath(s string) string {
	if v, err := url.PathUnescape(s); err == nil {
		return v
	}
	return s
}

func unescapeQuery(s string) string {
	if v, err := url.QueryUnescape(s); err == nil {
		return v
	}
	return s
}

// post sends body as JSON to the endpoint and classifies the answer: 2xx is
// delivered; 408, 425, 429 and 5xx are worth retrying (429 and 503 with their
// Retry-After); any other status is a refusal (alert.ErrRejected).
func post(ctx context.Context, client *http.Client, ep endpoint, body []byte, header http.Header) ([]byte, error) {
	target, name := ep.url, ep.name
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("post to %s: bad request", name)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "drainpipe-alerts/1")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the URL
		}
		return nil, fmt.Errorf("post to %s: %s", name, ep.scrub(err.Error()))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return answer, nil
	}
	err = fmt.Errorf("%s answered %d %s", name, resp.StatusCode, snippet(ep.scrub(string(answer))))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		if d := retryAfter(resp.Header.Get("Retry-After")); d > 0 {
			return nil, &alert.RetryAfterError{After: d, Err: err}
		}
		return nil, err
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooEarly || resp.StatusCode >= 500:
		return nil, err
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, fmt.Errorf("%w: %v (redirects are not followed: give the final URL)", alert.ErrRejected, err)
	}
	return nil, fmt.Errorf("%w: %v", alert.ErrRejected, err)
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// snippet is the start of an answer's body, on one line, for an error message.
func snippet(b string) string {
	s := strings.Join(strings.Fields(b), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
