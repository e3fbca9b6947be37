package heroku_test

import (
	"context"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"testing"

	"github.com/drainpipe/drainpipe/heroku"
	"github.com/drainpipe/drainpipe/heroku/herokuemu"
)

// recorder keeps every request the client sent, with its Authorization header
// taken out and checked on its own.
type recorder struct {
	mu    sync.Mutex
	dumps []string
	auth  []string
	hdrs  []http.Header
}

func (rec *recorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.auth = append(rec.auth, r.Header.Get("Authorization"))
		rec.hdrs = append(rec.hdrs, r.Header.Clone())
		r.Header.Del("Authorization")
		dump, err := httputil.DumpRequest(r, true)
		if err != nil {
			panic(err)
		}
		rec.dumps = append(rec.dumps, string(dump))
		r.Header.Set("Authorization", rec.auth[len(rec.auth)-1])
		rec.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// TestAPIKeyOnlyInAuthorization runs every method, on success and on every kind of
// failure, and checks that the key travels only in the Authorization header and
// that neither the key nor a drain URL's password reaches a log line or an error.
func TestAPIKeyOnlyInAuthorization(t *testing.T) {
	t.Parallel()
	const password = "s3cr3t-pa55"
	for _, emuKey := range []string{testKey, "another-key"} {
		rec := &recorder{}
		e := newEnv(t, envOptions{emu: herokuemu.Config{APIKey: emuKey}, wrap: rec.wrap})
		e.emu.AddApp("myapp")
		ctx := t.Context()
		var errs []error
		note := func(err error) {
			if err != nil {
				errs = append(errs, err)
			}
		}
		run := func(f func(context.Context) error) { note(f(ctx)) }

		run(func(ctx context.Context) error { _, err := e.client.CreateLogDrain(ctx, "myapp", drainURL); return err })
		run(func(ctx context.Context) error { _, err := e.client.CreateLogDrain(ctx, "myapp", drainURL); return err })
		run(func(ctx context.Context) error {
			_, _, err := e.client.EnsureLogDrain(ctx, "myapp", drainURL)
			return err
		})
		run(func(ctx context.Context) error { _, err := e.client.ListLogDrains(ctx, "myapp"); return err })
		run(func(ctx context.Context) error { _, err := e.client.LogDrain(ctx, "myapp", drainURL); return err })
		run(func(ctx context.Context) error { _, err := e.client.LogDrain(ctx, "nosuchapp", drainURL); return err })
		e.emu.SetFail(2, http.StatusTooManyRequests, "rate_limit", "slow down")
		run(func(ctx context.Context) error { _, err := e.client.ListLogDrains(ctx, "myapp"); return err })
		e.emu.SetFail(100, http.StatusServiceUnavailable, "", "")
		run(func(ctx context.Context) error { _, err := e.client.LogDrain(ctx, "myapp", drainURL); return err })
		e.emu.SetFail(0, 0, "", "")
		run(func(ctx context.Context) error { _, err := e.client.DeleteLogDrain(ctx, "myapp", drainURL); return err })
		run(func(ctx context.Context) error { _, err := e.client.DeleteLogDrain(ctx, "myapp", drainURL); return err })

		rec.mu.Lock()
		if len(rec.dumps) < 10 {
			t.Errorf("only %d requests recorded", len(rec.dumps))
		}
		for i, dump := range rec.dumps {
			if strings.Contains(dump, testKey) {
				t.Errorf("request %d holds the key outside Authorization:\n%s", i, dump)
			}
			if rec.auth[i] != "Bearer "+testKey {
				t.Errorf("request %d: Authorization = %q", i, rec.auth[i])
			}
			h := rec.hdrs[i]
			if h.Get("Accept") != "application/vnd.heroku+json; version=3" || h.Get("User-Agent") != "drainpipe" {
				t.Errorf("request %d: Accept %q, User-Agent %q", i, h.Get("Accept"), h.Get("User-Agent"))
			}
		}
		rec.mu.Unlock()
		logs := e.logs.String()
		if !strings.Contains(logs, "level=DEBUG") || !strings.Contains(logs, "level=WARN") {
			t.Errorf("expected debug and warning lines, got:\n%s", logs)
		}
		for _, secret := range []string{testKey, password} {
			if strings.Contains(logs, secret) {
				t.Errorf("log holds a secret:\n%s", logs)
			}
			for _, err := range errs {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error holds a secret: %v", err)
				}
			}
		}
		if len(errs) < 4 {
			t.Errorf("only %d errors met; the failure paths did not run", len(errs))
		}
	}
}

func TestLogDrainLogValueRedactsURL(t *testing.T) {
	t.Parallel()
	d := heroku.LogDrain{ID: "id", URL: drainURL, Token: "d.x"}
	if s := d.LogValue().String(); strings.Contains(s, "s3cr3t") || !strings.Contains(s, "drains.example.com") {
		t.Fatalf("LogValue = %s", s)
	}
}
