package heroku_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/heroku"
)

// TestDecodeHerokuAnswer reads an answer shaped as Heroku documents it
// (testdata/log-drains.json, written from testdata/heroku-platform-api.md with every
// field a log drain has), through the client, over HTTP: every field the client
// names must come out. The emulator has its own structs, so this is the test that
// holds the client's JSON names to Heroku's rather than to the emulator's.
func TestDecodeHerokuAnswer(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("testdata/log-drains.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("RateLimit-Remaining", "4321")
		if r.URL.Path != "/apps/example/log-drains" {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"id": "not_found", "message": "Couldn't find that app."}`))
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	c, err := heroku.NewClient(heroku.Config{BaseURL: srv.URL, APIKey: "key"})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := c.ListLogDrains(t.Context(), "example")
	if err != nil || len(ds) != 2 {
		t.Fatalf("ListLogDrains = %+v, %v", ds, err)
	}
	app := heroku.AppRef{ID: "01234567-89ab-cdef-0123-456789abcdef", Name: "example"}
	plain := heroku.LogDrain{
		ID: "01234567-89ab-cdef-0123-456789abcdef", URL: "https://d_abcd:secret@logs.example.com/logs",
		Token: "d.01234567-89ab-cdef-0123-456789abcdef", App: app,
		CreatedAt: time.Date(2012, 1, 1, 12, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2012, 1, 2, 12, 0, 0, 0, time.UTC),
	}
	if got := ds[0]; got.ID != plain.ID || got.URL != plain.URL || got.Token != plain.Token || got.App != plain.App ||
		got.Addon != nil || !got.CreatedAt.Equal(plain.CreatedAt) || !got.UpdatedAt.Equal(plain.UpdatedAt) {
		t.Errorf("drain 0 = %+v\nwant %+v", got, plain)
	}
	addon := ds[1]
	if addon.Addon == nil || *addon.Addon != (heroku.AddonRef{ID: "fedcba98-7654-3210-fedc-ba9876543210", Name: "papertrail-rigid-12345"}) ||
		addon.Token != "d.11111111-2222-4333-8444-555555555555" || addon.URL != "syslog+tls://logs.papertrailapp.com:12345" {
		t.Errorf("add-on drain = %+v", addon)
	}
	_, err = c.ListLogDrains(t.Context(), "nosuchapp")
	var he *heroku.Error
	if !errors.As(err, &he) || he.ID != "not_found" || he.Message != "Couldn't find that app." || !errors.Is(err, heroku.ErrNotFound) {
		t.Errorf("unknown app: %v, want Heroku's not_found decoded", err)
	}
}
