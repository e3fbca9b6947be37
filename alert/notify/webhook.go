package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/drainpipe/drainpipe/alert"
)

// The generic webhook's headers.
const (
	// HeaderSignature holds "sha256=" and the hex HMAC-SHA256, keyed with the
	// destination's secret, of the timestamp, a dot, and the body.
	HeaderSignature = "X-Drainpipe-Signature"
	// HeaderTimestamp is the Unix time in seconds the request was signed at; a
	// receiver refuses one too old (replays).
	HeaderTimestamp = "X-Drainpipe-Timestamp"
	// HeaderEvent is firing, resolved or renotify; HeaderID the notification's id.
	HeaderEvent = "X-Drainpipe-Event"
	HeaderID    = "X-Drainpipe-Id"
)

// WebhookVersion is the version of the webhook's body, its "version" field.
const WebhookVersion = 1

// Webhook posts each notification as JSON (alert.Notification's fields and
// "version") to a URL of the user's, signed with HMAC-SHA256 when the destination
// has a secret.
type Webhook struct {
	o      *Opener
	ep     endpoint
	secret []byte
}

// webhook opens webhook+https://host/path#secret=SECRET (or webhook+http://). The
// secret travels in the URL's fragment, which is never sent.
func (o *Opener) webhook(raw string) (*Webhook, error) {
	u, err := parse(raw, "webhook")
	if err != nil {
		return nil, err
	}
	scheme := strings.TrimPrefix(strings.ToLower(u.Scheme), "webhook+")
	if u.Host == "" || u.User != nil {
		return nil, errors.New("webhook destination: want webhook+https://host/path[#secret=SECRET]")
	}
	var secret string
	if u.Fragment != "" {
		frag, err := url.ParseQuery(u.Fragment)
		secret = frag.Get("secret")
		if err != nil || secret == "" || len(frag) != 1 {
			return nil, errors.New("webhook destination: the URL's fragment holds only the signing secret: #secret=SECRET")
		}
	}
	u.Scheme, u.Fragment, u.RawFragment = scheme, "", ""
	name := redactPath("webhook+"+scheme, u)
	if secret != "" {
		name += " (signed)"
	}
	ep := endpoint{url: u.String(), name: name, secrets: newSecrets(append(urlSecrets(u), secret)...)}
	return &Webhook{o: o, ep: ep, secret: []byte(secret)}, nil
}

// String is the destination with its path's tokens and its secret redacted.
func (w *Webhook) String() string { return w.ep.name }

// Send posts the notification; any 2xx is taken.
func (w *Webhook) Send(ctx context.Context, n alert.Notification) error {
	body, err := json.Marshal(struct {
		Version int `json:"version"`
		alert.Notification
	}{WebhookVersion, n})
	if err != nil {
		return fmt.Errorf("%w: encode webhook body: %v", alert.ErrRejected, err)
	}
	h := http.Header{}
	h.Set(HeaderEvent, n.Event)
	h.Set(HeaderID, n.ID)
	if len(w.secret) > 0 {
		ts := strconv.FormatInt(w.o.opt.Now().Unix(), 10)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, Sign(w.secret, ts, body))
	}
	_, err = post(ctx, w.o.opt.HTTPClient, w.ep, body, h)
	return err
}

// Sign returns the signature header's value for a body sent at timestamp ts:
// "sha256=" + hex(HMAC-SHA256(secret, ts + "." + body)). A receiver computes it
// again and compares in constant time (hmac.Equal).
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
