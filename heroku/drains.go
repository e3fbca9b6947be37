package heroku

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe"
)

// LogDrain is a log drain as the Platform API describes it.
type LogDrain struct {
	// ID is Heroku's id of the drain, a UUID.
	ID string `json:"id"`
	// URL is where Heroku sends the logs; it may carry the drain's credentials.
	URL string `json:"url"`
	// Token is the drain token ("d.<uuid>") that Heroku puts in the Logplex-Drain-Token
	// header and in the syslog HOSTNAME.
	Token string `json:"token"`
	// Addon is the add-on that owns the drain, nil for a drain added by hand; an
	// add-on's drain goes away only with the add-on.
	Addon *AddonRef `json:"addon"`
	// App is the app whose logs the drain carries.
	App AppRef `json:"app"`
	// CreatedAt is when the drain was added.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is when the drain last changed.
	UpdatedAt time.Time `json:"updated_at"`
}

// AddonRef names the add-on that owns a drain.
type AddonRef struct {
	// ID is the add-on's UUID.
	ID string `json:"id"`
	// Name is the add-on's name, such as "papertrail-rigid-12345".
	Name string `json:"name"`
}

// AppRef names an app.
type AppRef struct {
	// ID is the app's UUID.
	ID string `json:"id"`
	// Name is the app's name.
	Name string `json:"name"`
}

// Ref is the part of the drain that drainpipe keeps in its own drain records.
func (d LogDrain) Ref() drainpipe.HerokuDrain {
	return drainpipe.HerokuDrain{ID: d.ID, Token: d.Token}
}

// LogValue logs the drain with any password in its URL redacted.
func (d LogDrain) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", d.ID),
		slog.String("url", redact(d.URL)),
		slog.String("token", d.Token),
		slog.String("app", d.App.Name),
	)
}

// CreateLogDrain adds a drain to app that sends its logs to drainURL. Heroku
// answers 422 (ErrInvalidParams) when the app already has a drain with that URL;
// EnsureLogDrain handles that case.
func (c *Client) CreateLogDrain(ctx context.Context, app, drainURL string) (LogDrain, error) {
	var d LogDrain
	err := c.do(ctx, call{
		op: "create log drain", method: http.MethodPost, app: app,
		body: map[string]string{"url": drainURL},
	}, &d)
	return d, err
}

// ListLogDrains returns app's drains, add-ons' drains included.
func (c *Client) ListLogDrains(ctx context.Context, app string) ([]LogDrain, error) {
	var ds []LogDrain
	err := c.do(ctx, call{op: "list log drains", method: http.MethodGet, app: app, retryFaults: true}, &ds)
	return ds, err
}

// LogDrain returns one of app's drains, named by its id, its URL or its token.
func (c *Client) LogDrain(ctx context.Context, app, idOrURLOrToken string) (LogDrain, error) {
	var d LogDrain
	err := c.do(ctx, call{
		op: "get log drain", method: http.MethodGet, app: app, drain: idOrURLOrToken, retryFaults: true,
	}, &d)
	return d, err
}

// DeleteLogDrain removes one of app's drains, named by its id, its URL or its
// token, and returns it as it was. An add-on's drain cannot be removed this way:
// Heroku answers 422 and the add-on must be removed instead.
func (c *Client) DeleteLogDrain(ctx context.Context, app, idOrURLOrToken string) (LogDrain, error) {
	var d LogDrain
	err := c.do(ctx, call{op: "delete log drain", method: http.MethodDelete, app: app, drain: idOrURLOrToken}, &d)
	return d, err
}

// EnsureLogDrain makes sure app has a drain to drainURL and returns it; created
// reports whether this call added it. Running it twice, or from two processes at
// once, leaves one drain.
func (c *Client) EnsureLogDrain(ctx context.Context, app, drainURL string) (d LogDrain, created bool, err error) {
	ds, err := c.ListLogDrains(ctx, app)
	if err != nil {
		return LogDrain{}, false, err
	}
	for _, d := range ds {
		if d.URL == drainURL {
			return d, false, nil
		}
	}
	d, err = c.CreateLogDrain(ctx, app, drainURL)
	if err == nil {
		return d, true, nil
	}
	if !alreadyTaken(err) {
		return LogDrain{}, false, err
	}
	// Someone added the same URL between our list and our create: theirs is ours.
	c.log.Debug("heroku drain added concurrently, looking it up", "app", app, "url", redact(drainURL))
	d, lerr := c.LogDrain(ctx, app, drainURL)
	if lerr != nil {
		return LogDrain{}, false, errors.Join(err, lerr)
	}
	return d, false, nil
}

// alreadyTaken recognises Heroku's refusal of a duplicate drain URL
// (422 invalid_params, "Url has already been taken").
func alreadyTaken(err error) bool {
	var e *Error
	return errors.As(err, &e) && errors.Is(e, ErrInvalidParams) &&
		strings.Contains(strings.ToLower(e.Message), "already been taken")
}
