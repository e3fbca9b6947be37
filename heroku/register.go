package heroku

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/drainpipe/drainpipe"
)

// Drains is drainpipe's side of a registration: its admin API, which records with
// each drain the Heroku drain that delivers to it. The user's Heroku key stays with
// the user: the server never calls Heroku.
type Drains interface {
	// SetHeroku records h as the registration of app's drain.
	SetHeroku(ctx context.Context, app string, h drainpipe.HerokuDrain) error
	// RemoveDrain removes app's drain.
	RemoveDrain(ctx context.Context, app string) error
}

// ErrNoURL means Register was given no URL for a drain that Heroku does not have.
var ErrNoURL = errors.New("no URL to register")

// Registration is a drainpipe drain to be registered on Heroku.
type Registration struct {
	// App is the Heroku app, and the drain's app.
	App string
	// URL is what Heroku is to deliver to: the drain's HTTPS URL with its secret,
	// or drainpipe's syslog+tls:// (or syslog://) address. Empty means the drain's
	// own HTTPS URL, which cannot be given to Heroku again (its secret is not
	// stored): only a registration that delivers to an http(s) URL is it.
	URL string
	// New says the drain was made for this registration, so a registration that
	// fails removes it again.
	New bool
	// Current is the registration the drain has already, if any.
	Current *drainpipe.HerokuDrain
}

// Registered is the outcome of Register.
type Registered struct {
	// Drain is the Heroku drain, as recorded with drainpipe's drain.
	Drain drainpipe.HerokuDrain
	// Created says this call added the drain on Heroku; false when Heroku had it.
	Created bool
}

// RegisteredError refuses a registration for a drain that has another one: a
// drainpipe drain records one Heroku drain, and the one it records still delivers
// (or, gone from Heroku, is still what drainpipe knows the drain's lines by).
type RegisteredError struct {
	// App is the drain's app.
	App string
	// Current is the drain's registration.
	Current drainpipe.HerokuDrain
	// CurrentURL is where Heroku delivers Current (any password redacted, control
	// characters escaped); empty when Heroku no longer has it.
	CurrentURL string
	// Gone says Heroku no longer has Current.
	Gone bool
	// URL is the address asked for (any password redacted), empty for the drain's
	// own HTTPS URL.
	URL string
}

func (e *RegisteredError) Error() string {
	want := "the drain's HTTPS URL"
	if e.URL != "" {
		want = e.URL
	}
	if e.Gone {
		return fmt.Sprintf("the drain of %s is recorded as Heroku drain %s, which Heroku no longer has, so %s is not registered", e.App, e.Current.Token, want)
	}
	by := ""
	if e.Current.ID == "" {
		by = " (added by you, recorded with --heroku-token)"
	}
	return fmt.Sprintf("the drain of %s is registered already as Heroku drain %s%s, which delivers to %s, not to %s", e.App, e.Current.Token, by, e.CurrentURL, want)
}

// Register makes sure Heroku delivers reg.App's logs to reg.URL, and records that
// registration with drainpipe's drain. A drain registered already to reg.URL (and
// still on Heroku) is left as it is; a drain that has another registration is
// refused with a *RegisteredError, before Heroku is changed. Nothing half-made is
// left behind: when Heroku refuses, a drain made for this registration is removed
// again; when the registration cannot be recorded, the Heroku drain this call added
// is deleted too.
func (c *Client) Register(ctx context.Context, drains Drains, reg Registration) (Registered, error) {
	if reg.Current != nil {
		if err := c.sameRegistration(ctx, reg); err != nil {
			return Registered{}, undo(ctx, drains, reg, err)
		}
		return Registered{Drain: *reg.Current}, nil
	}
	if reg.URL == "" {
		return Registered{}, undo(ctx, drains, reg, ErrNoURL)
	}
	hd, created, err := c.EnsureLogDrain(ctx, reg.App, reg.URL)
	if err != nil {
		return Registered{}, undo(ctx, drains, reg, err)
	}
	if err := drains.SetHeroku(ctx, reg.App, hd.Ref()); err != nil {
		err = fmt.Errorf("record the Heroku registration: %w", err)
		if created {
			if _, derr := c.DeleteLogDrain(ctx, reg.App, hd.ID); derr != nil && !errors.Is(derr, ErrNotFound) {
				err = fmt.Errorf("%w (and deleting Heroku drain %s failed: %v)", err, hd.Token, derr)
			}
		}
		return Registered{}, undo(ctx, drains, reg, err)
	}
	return Registered{Drain: hd.Ref(), Created: created}, nil
}

// sameRegistration is nil when reg.Current is on Heroku and delivers to reg.URL,
// ErrNoURL when Heroku no longer has it and there is no URL to give it again, and
// otherwise the *RegisteredError refusing reg.
func (c *Client) sameRegistration(ctx context.Context, reg Registration) error {
	refused := &RegisteredError{App: reg.App, Current: *reg.Current, URL: redact(reg.URL)}
	ref := reg.Current.ID
	if ref == "" {
		ref = reg.Current.Token // a drain the user added, recorded by its token
	}
	ld, err := c.LogDrain(ctx, reg.App, ref)
	switch {
	case errors.Is(err, ErrNotFound) && reg.URL == "":
		return ErrNoURL
	case errors.Is(err, ErrNotFound):
		refused.Gone = true
		return refused
	case err != nil:
		return err
	case ld.URL == reg.URL, reg.URL == "" && isHTTP(ld.URL):
		return nil
	}
	refused.CurrentURL = escapeControls(redact(ld.URL)) // Heroku's text, for a terminal
	return refused
}

// isHTTP says whether raw is an http:// or https:// URL.
func isHTTP(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http")
}

// undo removes a drain made for a registration that failed, and returns cause.
func undo(ctx context.Context, drains Drains, reg Registration, cause error) error {
	if !reg.New {
		return cause
	}
	if err := drains.RemoveDrain(ctx, reg.App); err != nil {
		return fmt.Errorf("%w (and removing the new drain failed: %v)", cause, err)
	}
	return cause
}

// Unregister deletes app's Heroku drain h, which Register made (it has Heroku's
// id; a drain recorded by its token only was added on Heroku by the user, and is
// theirs to remove). It reports whether Heroku had it: a drain that Heroku no
// longer has is no error, but nothing was removed.
func (c *Client) Unregister(ctx context.Context, app string, h drainpipe.HerokuDrain) (removed bool, err error) {
	if h.ID == "" {
		return false, fmt.Errorf("the Heroku drain %s of %s was not registered by drainpipe: remove it with `heroku drains:remove %s -a %s`", h.Token, app, h.Token, app)
	}
	if _, err := c.DeleteLogDrain(ctx, app, h.ID); errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, nil
}

// IsRegistered reports whether Heroku still has app's drain h.
func (c *Client) IsRegistered(ctx context.Context, app string, h drainpipe.HerokuDrain) (bool, error) {
	ref := h.ID
	if ref == "" {
		ref = h.Token
	}
	_, err := c.LogDrain(ctx, app, ref)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
