package drainpipe

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// appName is Heroku's rule for app names, loosened to 63 characters so that other
// senders' names fit too: lower-case letters, digits and dashes.
var appName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidAppName reports whether name can name an app (and so a log group and a key).
func ValidAppName(name string) bool { return appName.MatchString(name) }

// NewDrain makes a drain for app with a fresh id and secret. The secret is returned
// once, to be shown to the user; the drain keeps only its SHA-256. A secret is 256
// random bits in URL-safe base64 with no ':', because logplex puts it in the URL's
// userinfo without percent-decoding it.
func NewDrain(app string, now time.Time) (Drain, string, error) {
	if !ValidAppName(app) {
		return Drain{}, "", fmt.Errorf("app name %q: use lower-case letters, digits and dashes (at most 63)", app)
	}
	idBytes := make([]byte, 10)
	secretBytes := make([]byte, 32)
	if _, err := rand.Read(idBytes); err != nil {
		return Drain{}, "", fmt.Errorf("drain id: %w", err)
	}
	if _, err := rand.Read(secretBytes); err != nil {
		return Drain{}, "", fmt.Errorf("drain secret: %w", err)
	}
	id := "d_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(idBytes))
	secret := base64.RawURLEncoding.EncodeToString(secretBytes)
	return Drain{ID: id, App: app, SecretHash: HashSecret(secret), Created: now.UTC()}, secret, nil
}

// HashSecret is how drain secrets and admin tokens are stored: SHA-256, which is
// enough for 256-bit random secrets (a slow hash protects low-entropy passwords).
func HashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// DrainURL is the URL to give Heroku: base with the drain's id and secret as
// userinfo (logplex turns it into HTTP Basic auth) and the /logs path. With an
// empty secret it is the URL without credentials, for display.
func DrainURL(base, id, secret string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("public URL %q: want scheme://host[:port]", base)
	}
	if secret != "" {
		u.User = url.UserPassword(id, secret)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/logs"
	return u.String(), nil
}
