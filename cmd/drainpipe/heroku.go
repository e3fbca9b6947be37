package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/heroku"
)

// herokuClient is a Platform API client with the user's own key: HEROKU_API_KEY,
// else the api.heroku.com entry of ~/.netrc that `heroku login` writes.
// HEROKU_API_URL points it elsewhere (tests use it).
func herokuClient() (*heroku.Client, error) {
	home, _ := os.UserHomeDir()
	key, err := heroku.APIKeyFromEnv(os.Getenv, filepath.Join(home, ".netrc"))
	if err != nil {
		return nil, err
	}
	return heroku.NewClient(heroku.Config{BaseURL: os.Getenv("HEROKU_API_URL"), APIKey: key, UserAgent: "drainpipe"})
}

// addOnHeroku registers d on Heroku: its HTTPS URL (which holds the secret, so only
// right after the drain was made) or a syslog URL. Heroku's drain id and token are
// then stored with the drain. Nothing half-made is left: a drain made by this
// command is removed again when Heroku refuses it, and a Heroku drain made by it is
// removed when its registration cannot be stored.
func addOnHeroku(ctx context.Context, c *api.Client, d api.Drain, syslogURL string, stderr io.Writer) (api.Drain, error) {
	hc, err := herokuClient()
	if err != nil {
		return d, undoAdd(ctx, c, d, err)
	}
	if d.Existing && d.Heroku != nil {
		if _, err := hc.LogDrain(ctx, d.App, d.Heroku.ID); err == nil {
			return d, nil // registered already: nothing to do
		} else if !errors.Is(err, heroku.ErrNotFound) {
			return d, err
		}
	}
	url := syslogURL
	if url == "" {
		if d.Existing {
			return d, fmt.Errorf("%s already has drain %s, whose secret is not stored, so its URL cannot be given to Heroku again: run `drainpipe drains remove %s`, then add it again with --heroku", d.App, d.ID, d.App)
		}
		url = d.URL
		if !strings.HasPrefix(url, "https://") {
			fmt.Fprintf(stderr, "warning: %s is not an HTTPS URL; Heroku needs a public HTTPS URL to deliver to (set --public-url on the server)\n", redactURL(url))
		}
	}
	hd, created, err := hc.EnsureLogDrain(ctx, d.App, url)
	if err != nil {
		return d, undoAdd(ctx, c, d, err)
	}
	stored, err := c.SetHeroku(ctx, d.App, hd.Ref())
	if err != nil {
		if created {
			_, _ = hc.DeleteLogDrain(ctx, d.App, hd.ID)
		}
		return d, undoAdd(ctx, c, d, fmt.Errorf("store the Heroku registration: %w", err))
	}
	stored.URL, stored.Existing = d.URL, d.Existing
	return stored, nil
}

// undoAdd removes a drain this command just made, so a failed --heroku leaves
// nothing behind, and returns cause.
func undoAdd(ctx context.Context, c *api.Client, d api.Drain, cause error) error {
	if !d.Existing {
		if _, err := c.RemoveDrain(ctx, d.App); err != nil {
			return fmt.Errorf("%w (and removing the new drain failed: %v)", cause, err)
		}
	}
	return cause
}

// removeOnHeroku deletes d's registration on Heroku; one Heroku no longer has is fine.
func removeOnHeroku(ctx context.Context, d api.Drain) error {
	hc, err := herokuClient()
	if err != nil {
		return fmt.Errorf("%w (or pass --keep-heroku to leave the Heroku drain in place)", err)
	}
	if _, err := hc.DeleteLogDrain(ctx, d.App, d.Heroku.ID); err != nil && !errors.Is(err, heroku.ErrNotFound) {
		return err
	}
	return nil
}

// checkOnHeroku asks Heroku whether each registered drain is still there.
func checkOnHeroku(ctx context.Context, ds []api.Drain) error {
	hc, err := herokuClient()
	if err != nil {
		return err
	}
	for i := range ds {
		if ds[i].Heroku == nil {
			continue
		}
		_, err := hc.LogDrain(ctx, ds[i].App, ds[i].Heroku.ID)
		registered := err == nil
		if err != nil && !errors.Is(err, heroku.ErrNotFound) {
			return fmt.Errorf("check %s on Heroku: %w", ds[i].App, err)
		}
		ds[i].HerokuRegistered = &registered
	}
	return nil
}

// redactURL hides the password of a URL for messages.
func redactURL(u string) string {
	if at := strings.LastIndex(u, "@"); at > 0 {
		if colon := strings.LastIndex(u[:at], ":"); colon > strings.Index(u, "://")+2 {
			return u[:colon+1] + "***" + u[at:]
		}
	}
	return u
}

// herokuColumn is the HEROKU column of `drains list`.
func herokuColumn(d api.Drain) string {
	if d.Heroku == nil {
		return "-"
	}
	switch {
	case d.HerokuRegistered == nil:
		return d.Heroku.Token
	case *d.HerokuRegistered:
		return d.Heroku.Token + " (registered)"
	default:
		return d.Heroku.Token + " (MISSING on Heroku)"
	}
}
