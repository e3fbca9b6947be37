package heroku_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/heroku"
	"github.com/drainpipe/drainpipe/heroku/herokuemu"
)

const drainURL = "https://d-1234:s3cr3t-pa55@drains.example.com/logplex"

func TestDrainLifecycle(t *testing.T) {
	t.Parallel()
	for _, by := range []string{"id", "url", "token"} {
		t.Run("by "+by, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			appID := e.emu.AddApp("myapp")
			ctx := t.Context()

			d, err := e.client.CreateLogDrain(ctx, "myapp", drainURL)
			if err != nil {
				t.Fatal(err)
			}
			if d.ID == "" || !strings.HasPrefix(d.Token, "d.") || d.URL != drainURL ||
				d.App != (heroku.AppRef{ID: appID, Name: "myapp"}) || d.Addon != nil ||
				d.CreatedAt.IsZero() || d.UpdatedAt.IsZero() {
				t.Fatalf("created drain = %+v", d)
			}
			if got := d.Ref(); got != (drainpipe.HerokuDrain{ID: d.ID, Token: d.Token}) {
				t.Errorf("Ref() = %+v", got)
			}
			ref := map[string]string{"id": d.ID, "url": d.URL, "token": d.Token}[by]

			list, err := e.client.ListLogDrains(ctx, "myapp")
			if err != nil || len(list) != 1 || list[0].ID != d.ID {
				t.Fatalf("ListLogDrains = %+v, %v", list, err)
			}
			got, err := e.client.LogDrain(ctx, "myapp", ref)
			if err != nil || !sameDrain(got, d) {
				t.Fatalf("LogDrain(%s) = %+v, %v; want %+v", by, got, err, d)
			}
			gone, err := e.client.DeleteLogDrain(ctx, "myapp", ref)
			if err != nil || !sameDrain(gone, d) {
				t.Fatalf("DeleteLogDrain(%s) = %+v, %v", by, gone, err)
			}
			if left := e.emu.Drains("myapp"); len(left) != 0 {
				t.Fatalf("drains left after delete: %+v", left)
			}
			if _, err := e.client.LogDrain(ctx, "myapp", ref); !errors.Is(err, heroku.ErrNotFound) {
				t.Fatalf("LogDrain after delete: %v, want ErrNotFound", err)
			}
		})
	}
}

func sameDrain(a, b heroku.LogDrain) bool {
	return a.ID == b.ID && a.URL == b.URL && a.Token == b.Token && a.App == b.App &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

func TestListLogDrainsIncludesAddonDrains(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.emu.AddApp("myapp")
	addon, err := e.emu.AddAddonDrain("myapp", "papertrail-rigid-12345", "syslog+tls://logs.papertrailapp.com:12345")
	if err != nil {
		t.Fatal(err)
	}
	list, err := e.client.ListLogDrains(t.Context(), "myapp")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Addon == nil || list[0].Addon.ID != addon.Addon.ID || list[0].Addon.Name != addon.Addon.Name {
		t.Fatalf("list = %+v, want the add-on drain %+v", list, addon)
	}
}

// errorCase is one way a call can fail, and what the caller must see.
type errorCase struct {
	name   string
	emu    herokuemu.Config
	client heroku.Config
	setup  func(t *testing.T, e *env)
	call   func(ctx context.Context, c *heroku.Client) error
	is     []error
	text   string // the exact Error() text
	// requests is how many requests the double must have received, 0 for any.
	requests int
}

func createCall(app, u string) func(context.Context, *heroku.Client) error {
	return func(ctx context.Context, c *heroku.Client) error {
		_, err := c.CreateLogDrain(ctx, app, u)
		return err
	}
}

func listCall(app string) func(context.Context, *heroku.Client) error {
	return func(ctx context.Context, c *heroku.Client) error {
		_, err := c.ListLogDrains(ctx, app)
		return err
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	addApp := func(t *testing.T, e *env) { e.emu.AddApp("myapp") }
	cases := []errorCase{{
		name: "401 wrong key", client: heroku.Config{APIKey: "wrong-key"}, setup: addApp, call: listCall("myapp"),
		is:   []error{heroku.ErrUnauthorized},
		text: "Heroku rejected the API key (401 unauthorized): run `heroku login` or set HEROKU_API_KEY",
	}, {
		name: "403 forbidden",
		setup: func(t *testing.T, e *env) {
			e.emu.AddApp("myapp")
			e.emu.SetFail(1, http.StatusForbidden, "forbidden", "You do not have access to the app myapp.")
		},
		call: createCall("myapp", drainURL),
		is:   []error{heroku.ErrForbidden},
		text: "Heroku denied access on app \"myapp\" (403 forbidden): You do not have access to the app myapp.: check the key's account has access with `heroku access -a myapp`",
	}, {
		name: "404 app", call: listCall("nosuchapp"),
		is:   []error{heroku.ErrNotFound, drainpipe.ErrNotFound},
		text: "Heroku app \"nosuchapp\" not found (404 not_found): check the name with `heroku apps`",
	}, {
		name: "404 app on a drain path",
		call: func(ctx context.Context, c *heroku.Client) error {
			_, err := c.LogDrain(ctx, "nosuchapp", "d.00000000-0000-4000-8000-000000000000")
			return err
		},
		is:   []error{heroku.ErrNotFound},
		text: "Heroku app \"nosuchapp\" not found (404 not_found): check the name with `heroku apps`",
	}, {
		name: "404 drain", setup: addApp,
		call: func(ctx context.Context, c *heroku.Client) error {
			_, err := c.DeleteLogDrain(ctx, "myapp", drainURL)
			return err
		},
		is:   []error{heroku.ErrNotFound, drainpipe.ErrNotFound},
		text: "Heroku log drain \"https://d-1234:xxxxx@drains.example.com/logplex\" not found on app \"myapp\" (404 not_found): list them with `heroku drains -a myapp`",
	}, {
		name: "422 duplicate URL",
		setup: func(t *testing.T, e *env) {
			e.emu.AddApp("myapp")
			if _, err := e.client.CreateLogDrain(t.Context(), "myapp", drainURL); err != nil {
				t.Fatal(err)
			}
		},
		call: createCall("myapp", drainURL),
		is:   []error{heroku.ErrInvalidParams},
		text: "Heroku refused the request for app \"myapp\" (422 invalid_params): Url has already been taken",
	}, {
		name: "422 invalid URL", setup: addApp, call: createCall("myapp", "ftp://example.com/"),
		is:   []error{heroku.ErrInvalidParams},
		text: "Heroku refused the request for app \"myapp\" (422 invalid_params): Url is invalid",
	}, {
		name: "422 add-on drain",
		setup: func(t *testing.T, e *env) {
			e.emu.AddApp("myapp")
			if _, err := e.emu.AddAddonDrain("myapp", "papertrail-rigid-12345", "syslog+tls://logs.example.com:1"); err != nil {
				t.Fatal(err)
			}
		},
		call: func(ctx context.Context, c *heroku.Client) error {
			_, err := c.DeleteLogDrain(ctx, "myapp", "syslog+tls://logs.example.com:1")
			return err
		},
		is:   []error{heroku.ErrInvalidParams},
		text: "Heroku refused the request for app \"myapp\" (422 invalid_params): Cannot remove a log drain that belongs to an add-on. Remove the add-on papertrail-rigid-12345 instead.",
	}, {
		name: "409 conflict",
		setup: func(t *testing.T, e *env) {
			e.emu.AddApp("myapp")
			e.emu.SetFail(1, http.StatusConflict, "conflict", "The app is being transferred.")
		},
		call: createCall("myapp", drainURL),
		is:   []error{heroku.ErrConflict},
		text: "Heroku reported a conflict on app \"myapp\" (409 conflict): The app is being transferred.",
	}, {
		// A proxy's or Heroku's text reaches the user's terminal: its control
		// characters are escaped as Go quotes them, never sent.
		name: "control characters in Heroku's text",
		setup: func(t *testing.T, e *env) {
			e.emu.AddApp("myapp")
			e.emu.SetFail(1, http.StatusConflict, "con\x1b[2Jflict", "The app\x1b]0;pwned\a is \u202ebeing\u0085 transferred.")
		},
		call: createCall("myapp", drainURL),
		is:   []error{heroku.ErrConflict},
		text: `Heroku reported a conflict on app "myapp" (409 con\x1b[2Jflict): The app\x1b]0;pwned\a is \u202ebeing transferred.`, // NEL is whitespace: collapsed
	}, {
		name: "429 exhausted",
		setup: func(t *testing.T, e *env) {
			e.emu.AddApp("myapp")
			e.emu.SetFail(100, http.StatusTooManyRequests, "rate_limit", "Your account reached the API rate limit\nPlease wait a few minutes before making new requests")
		},
		call: createCall("myapp", drainURL), requests: 4,
		is:   []error{heroku.ErrRateLimited},
		text: "Heroku rate limit reached (429 rate_limit): try again in a minute",
	}, {
		name: "429 from the real budget", emu: herokuemu.Config{RateLimit: 1},
		client: heroku.Config{LowRemaining: -1},
		setup: func(t *testing.T, e *env) {
			e.emu.AddApp("myapp")
			if _, err := e.client.ListLogDrains(t.Context(), "myapp"); err != nil {
				t.Fatal(err)
			}
		},
		call: listCall("myapp"), requests: 4,
		is:   []error{heroku.ErrRateLimited},
		text: "Heroku rate limit reached (429 rate_limit): try again in a minute",
	}, {
		name: "503 on a read, retried",
		setup: func(t *testing.T, e *env) {
			e.emu.AddApp("myapp")
			e.emu.SetFail(100, http.StatusServiceUnavailable, "service_unavailable", "API is temporarily unavailable.")
		},
		call: listCall("myapp"), requests: 4,
		text: "Heroku API failed (503 service_unavailable): API is temporarily unavailable.: try again later",
	}, {
		name: "502 without JSON on a write, not retried",
		setup: func(t *testing.T, e *env) {
			e.emu.AddApp("myapp")
			e.emu.SetFail(100, http.StatusBadGateway, "", "")
		},
		call: createCall("myapp", drainURL), requests: 1,
		text: "Heroku API failed (502 bad gateway): try again later",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{emu: tc.emu, client: tc.client})
			if tc.setup != nil {
				tc.setup(t, e)
			}
			before := e.emu.Requests()
			err := tc.call(t.Context(), e.client)
			var apiErr *heroku.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T), want *heroku.Error", err, err)
			}
			for _, target := range tc.is {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(%v, %v) = false", err, target)
				}
			}
			if got := err.Error(); got != tc.text {
				t.Errorf("Error() =\n  %s\nwant\n  %s", got, tc.text)
			}
			if n := e.emu.Requests() - before; tc.requests != 0 && n != tc.requests {
				t.Errorf("requests = %d, want %d", n, tc.requests)
			}
		})
	}
}

func TestSentinelsDoNotOverlap(t *testing.T) {
	t.Parallel()
	all := []error{heroku.ErrUnauthorized, heroku.ErrForbidden, heroku.ErrNotFound,
		heroku.ErrRateLimited, heroku.ErrInvalidParams, heroku.ErrConflict}
	for _, status := range []int{401, 403, 404, 409, 422, 429, 500} {
		matched := 0
		for _, s := range all {
			if errors.Is(&heroku.Error{Status: status}, s) {
				matched++
			}
		}
		want := 1
		if status == 500 {
			want = 0
		}
		if matched != want {
			t.Errorf("status %d matches %d sentinels, want %d", status, matched, want)
		}
	}
	// 422 verification_needed is not a parameter problem.
	if errors.Is(&heroku.Error{Status: 422, ID: "verification_needed"}, heroku.ErrInvalidParams) {
		t.Error("verification_needed matched ErrInvalidParams")
	}
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		status   int
		id       string
		call     func(ctx context.Context, c *heroku.Client) error
		requests int
	}{
		{"429 twice then create", http.StatusTooManyRequests, "rate_limit", createCall("myapp", drainURL), 3},
		{"429 twice then list", http.StatusTooManyRequests, "rate_limit", listCall("myapp"), 3},
		{"503 twice then list", http.StatusServiceUnavailable, "", listCall("myapp"), 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			e.emu.AddApp("myapp")
			e.emu.SetFail(2, tc.status, tc.id, "try later")
			if err := tc.call(t.Context(), e.client); err != nil {
				t.Fatal(err)
			}
			if n := e.emu.Requests(); n != tc.requests {
				t.Errorf("requests = %d, want %d", n, tc.requests)
			}
			if !strings.Contains(e.logs.String(), "retrying") {
				t.Errorf("no retry logged:\n%s", e.logs)
			}
		})
	}
}

// TestRateLimitRefills spends the double's whole budget, then relies on the client's
// backoff to outlast the refill, which is 20 ms per request here.
func TestRateLimitRefills(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{
		emu:    herokuemu.Config{RateLimit: 2, RatePeriod: 40 * time.Millisecond},
		client: heroku.Config{MaxAttempts: 12, RetryWait: 5 * time.Millisecond, LowRemaining: -1},
	})
	e.emu.AddApp("myapp")
	for i := range 6 {
		if _, err := e.client.ListLogDrains(t.Context(), "myapp"); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
}

func TestEnsureLogDrain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.emu.AddApp("myapp")
	first, created, err := e.client.EnsureLogDrain(t.Context(), "myapp", drainURL)
	if err != nil || !created {
		t.Fatalf("first EnsureLogDrain = %+v, %v, %v", first, created, err)
	}
	again, created, err := e.client.EnsureLogDrain(t.Context(), "myapp", drainURL)
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("second EnsureLogDrain = %+v, %v, %v; want the first drain", again, created, err)
	}
	if n := len(e.emu.Drains("myapp")); n != 1 {
		t.Fatalf("%d drains, want 1", n)
	}
	if _, _, err := e.client.EnsureLogDrain(t.Context(), "nosuchapp", drainURL); !errors.Is(err, heroku.ErrNotFound) {
		t.Fatalf("EnsureLogDrain on unknown app: %v", err)
	}
}

// TestEnsureLogDrainRace adds the drain behind the client's back between its list
// and its create, so the create meets Heroku's 422 "Url has already been taken".
func TestEnsureLogDrainRace(t *testing.T) {
	t.Parallel()
	var (
		raced  atomic.Bool
		theirs herokuemu.Drain
	)
	var e *env
	e = newEnv(t, envOptions{wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/log-drains") && raced.CompareAndSwap(false, true) {
				d, err := e.emu.AddAddonDrain("myapp", "other-process", drainURL)
				if err != nil {
					panic(err)
				}
				theirs = d
			}
		})
	}})
	e.emu.AddApp("myapp")
	d, created, err := e.client.EnsureLogDrain(t.Context(), "myapp", drainURL)
	if err != nil || created || d.ID != theirs.ID {
		t.Fatalf("EnsureLogDrain = %+v, %v, %v; want the concurrent drain %s", d, created, err, theirs.ID)
	}
	if n := len(e.emu.Drains("myapp")); n != 1 {
		t.Fatalf("%d drains, want 1", n)
	}
}

func TestEnsureLogDrainConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.emu.AddApp("myapp")
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
		ids     = map[string]bool{}
	)
	for range 8 {
		wg.Go(func() {
			d, c, err := e.client.EnsureLogDrain(t.Context(), "myapp", drainURL)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[d.ID] = true
			if c {
				created++
			}
		})
	}
	wg.Wait()
	if created != 1 || len(ids) != 1 || len(e.emu.Drains("myapp")) != 1 {
		t.Fatalf("created %d, ids %v, drains %d; want one of each", created, ids, len(e.emu.Drains("myapp")))
	}
}

func TestContextCancel(t *testing.T) {
	t.Parallel()
	t.Run("before the call", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOptions{})
		e.emu.AddApp("myapp")
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := e.client.ListLogDrains(ctx, "myapp")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("while waiting to retry", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		// The client logs a warning as it starts to wait an hour: only ctx can end that.
		e := newEnv(t, envOptions{client: heroku.Config{
			RetryWait: time.Hour,
			Logger:    slog.New(onWarn{cancel}),
		}})
		e.emu.AddApp("myapp")
		e.emu.SetFail(100, http.StatusTooManyRequests, "rate_limit", "slow down")
		_, err := e.client.CreateLogDrain(ctx, "myapp", drainURL)
		if !errors.Is(err, context.Canceled) || !errors.Is(err, heroku.ErrRateLimited) {
			t.Fatalf("err = %v, want context.Canceled wrapping the 429", err)
		}
		if n := e.emu.Requests(); n != 1 {
			t.Fatalf("requests = %d, want 1", n)
		}
	})
	t.Run("during the request", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		e := newEnv(t, envOptions{wrap: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				cancel()
				<-r.Context().Done() // hold the answer until the client gives up
			})
		}})
		_, err := e.client.LogDrain(ctx, "myapp", "d.x")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

// onWarn is a slog handler that calls fn on every warning.
type onWarn struct{ fn func() }

func (h onWarn) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h onWarn) Handle(context.Context, slog.Record) error    { h.fn(); return nil }
func (h onWarn) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h onWarn) WithGroup(string) slog.Handler                { return h }

func TestTransportError(t *testing.T) {
	t.Parallel()
	// A closed port: every try fails to connect; the error names the operation
	// and never the URL with the drain's password.
	e := newEnv(t, envOptions{})
	if err := e.emu.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.LogDrain(t.Context(), "myapp", drainURL)
	if err == nil || !strings.HasPrefix(err.Error(), `get log drain for app "myapp": `) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error leaks the drain password: %v", err)
	}
}

func TestNewClientValidates(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  heroku.Config
		ok   bool
	}{
		{"defaults", heroku.Config{APIKey: "k"}, true},
		{"no key", heroku.Config{}, false},
		{"relative base", heroku.Config{APIKey: "k", BaseURL: "api.heroku.com"}, false},
		{"bad scheme", heroku.Config{APIKey: "k", BaseURL: "ftp://api.heroku.com"}, false},
		{"trailing slash", heroku.Config{APIKey: "k", BaseURL: "https://api.heroku.com/"}, true},
		{"key with a newline", heroku.Config{APIKey: "k\n"}, false},
		{"key with a space", heroku.Config{APIKey: "k k"}, false},
	}
	for _, tc := range cases {
		_, err := heroku.NewClient(tc.cfg)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	if _, err := heroku.NewClient(heroku.Config{}); !errors.Is(err, heroku.ErrNoAPIKey) {
		t.Errorf("no key: %v, want ErrNoAPIKey", err)
	}
}

func TestConfigPrintsNoKey(t *testing.T) {
	t.Parallel()
	cfg := heroku.Config{APIKey: testKey, BaseURL: "https://api.heroku.com"}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), cfg.LogValue().String()} {
		if strings.Contains(s, testKey) {
			t.Errorf("printed config holds the key: %s", s)
		}
	}
}
