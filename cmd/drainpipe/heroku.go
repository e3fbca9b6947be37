package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/drainpipe/drainpipe"
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

// adminDrains is the admin API as the Heroku registration's drainpipe side.
type adminDrains struct{ c *api.Client }

var _ heroku.Drains = adminDrains{}

func (a adminDrains) SetHeroku(ctx context.Context, app string, h drainpipe.HerokuDrain) error {
	_, err := a.c.SetHeroku(ctx, app, h)
	return err
}

func (a adminDrains) RemoveDrain(ctx context.Context, app string) error {
	_, err := a.c.RemoveDrain(ctx, app)
	return err
}

// checkOnHeroku asks Heroku whether each registered drain is still there.
func checkOnHeroku(ctx context.Context, hc *heroku.Client, ds []api.Drain) error {
	for i := range ds {
		if ds[i].Heroku == nil {
			continue
		}
		registered, err := hc.IsRegistered(ctx, ds[i].App, *ds[i].Heroku)
		if err != nil {
			return err
		}
		ds[i].HerokuRegistered = &registered
	}
	return nil
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
