package lambda

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe"
)

// SSMPrefix starts a DRAINPIPE_LAMBDA_DRAINS value that names an SSM Parameter
// Store SecureString holding the drains instead of holding them itself.
const SSMPrefix = "ssm:"

// idRe is a drain id as drainpipe.NewDrain makes them (and a little looser).
var idRe = regexp.MustCompile(`^d_[a-z0-9]{1,62}$`)

// Drains is the function's set of drains: ids, secret hashes and apps, never a
// secret. Its text form, the value of DRAINPIPE_LAMBDA_DRAINS, is one entry per
// drain, "app:id:hash", separated by commas (or white space, for an SSM
// parameter kept one per line); hash is the secret's SHA-256 in unpadded
// URL-safe base64. An app may have several drains (to rotate a secret).
type Drains struct {
	list   []drainpipe.Drain // in the order of the text
	byHash map[[sha256.Size]byte]drainpipe.Drain
}

// ParseDrains reads the text form. Every entry must be whole and valid, and no
// id or secret hash may appear twice: a function that would answer 401 to some
// of its drains must not start.
func ParseDrains(text string) (*Drains, error) {
	d := &Drains{byHash: map[[sha256.Size]byte]drainpipe.Drain{}}
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == '\r' })
	var errs []error
	for i, f := range fields {
		dr, err := parseEntry(f)
		if err == nil {
			err = d.add(dr)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("drain %d: %w", i+1, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return d, nil
}

func parseEntry(f string) (drainpipe.Drain, error) {
	parts := strings.Split(f, ":")
	if len(parts) != 3 {
		return drainpipe.Drain{}, fmt.Errorf("%q: want app:id:hash", truncate(f))
	}
	app, id, h := parts[0], parts[1], parts[2]
	if !drainpipe.ValidAppName(app) {
		return drainpipe.Drain{}, fmt.Errorf("app %q: lower-case letters, digits and dashes, at most 63", truncate(app))
	}
	if !idRe.MatchString(id) {
		return drainpipe.Drain{}, fmt.Errorf("app %s: id %q: want d_ and lower-case letters or digits", app, truncate(id))
	}
	hash, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil || len(hash) != sha256.Size {
		return drainpipe.Drain{}, fmt.Errorf("app %s: hash: want a SHA-256 in unpadded URL-safe base64 (43 characters)", app)
	}
	return drainpipe.Drain{ID: id, App: app, SecretHash: hash}, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// add puts dr in the set, refusing a second drain with its id or its secret.
func (d *Drains) add(dr drainpipe.Drain) error {
	for _, o := range d.list {
		if o.ID == dr.ID {
			return fmt.Errorf("app %s: id %s is already the id of app %s", dr.App, dr.ID, o.App)
		}
	}
	key := [sha256.Size]byte(dr.SecretHash)
	if o, dup := d.byHash[key]; dup {
		return fmt.Errorf("app %s: drain %s has the same secret as drain %s", dr.App, dr.ID, o.ID)
	}
	d.byHash[key] = dr
	d.list = append(d.list, dr)
	return nil
}

// Authenticate finds the drain whose secret this is, comparing hashes in
// constant time.
func (d *Drains) Authenticate(secret string) (drainpipe.Drain, bool) {
	sum := sha256.Sum256([]byte(secret))
	dr, ok := d.byHash[sum]
	if !ok || subtle.ConstantTimeCompare(dr.SecretHash, sum[:]) != 1 {
		return drainpipe.Drain{}, false
	}
	return dr, true
}

// List returns the drains in the order of the text.
func (d *Drains) List() []drainpipe.Drain { return slices.Clone(d.list) }

// String is the text form, the value to set DRAINPIPE_LAMBDA_DRAINS to.
func (d *Drains) String() string {
	parts := make([]string, len(d.list))
	for i, dr := range d.list {
		parts[i] = dr.App + ":" + dr.ID + ":" + base64.RawURLEncoding.EncodeToString(dr.SecretHash)
	}
	return strings.Join(parts, ",")
}

// Add makes a new drain for app and returns it with its secret, which is shown
// once and kept nowhere.
func (d *Drains) Add(app string, now time.Time) (drainpipe.Drain, string, error) {
	dr, secret, err := drainpipe.NewDrain(app, now)
	if err != nil {
		return drainpipe.Drain{}, "", err
	}
	dr.Created = time.Time{} // the text form keeps no dates
	if err := d.add(dr); err != nil {
		return drainpipe.Drain{}, "", err
	}
	return dr, secret, nil
}

// Remove takes out the drains of app, or the one drain whose id is app, and
// returns them.
func (d *Drains) Remove(appOrID string) []drainpipe.Drain {
	var removed []drainpipe.Drain
	d.list = slices.DeleteFunc(d.list, func(dr drainpipe.Drain) bool {
		if dr.App != appOrID && dr.ID != appOrID {
			return false
		}
		removed = append(removed, dr)
		delete(d.byHash, [sha256.Size]byte(dr.SecretHash))
		return true
	})
	return removed
}
