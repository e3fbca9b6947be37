package heroku_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drainpipe/drainpipe/heroku"
	"github.com/drainpipe/drainpipe/heroku/herokuemu"
)

// inProcess sends requests straight to a handler, so that a synctest bubble's fake
// clock governs both the client's waits and the double's rate limit.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

func newBubbleClient(t *testing.T, h http.Handler, cfg heroku.Config) *heroku.Client {
	t.Helper()
	cfg.BaseURL = "http://heroku.test"
	cfg.APIKey = testKey
	cfg.HTTPClient = &http.Client{Transport: inProcess{h}}
	c, err := heroku.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPacingWhenBudgetLow checks that once Heroku reports fewer than LowRemaining
// requests left, each request waits MinInterval first.
func TestPacingWhenBudgetLow(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		emu := herokuemu.New(herokuemu.Config{APIKey: testKey, RateLimit: 5})
		emu.AddApp("myapp")
		c := newBubbleClient(t, emu, heroku.Config{LowRemaining: 3, MinInterval: time.Second})
		start := time.Now()
		// Remaining after each call: 4, 3, 2, 1, 0. The calls made after 2 was
		// reported (the 4th and 5th) wait.
		for i := range 5 {
			if _, err := c.ListLogDrains(t.Context(), "myapp"); err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		if got := time.Since(start); got != 2*time.Second {
			t.Fatalf("5 calls took %v of fake time, want 2s of pacing", got)
		}
	})
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		retryAfter string
		min, max   time.Duration
	}{
		// Two retries: waits of [0.5s, 1s] then [1s, 2s].
		{"exponential with jitter", "", 1500 * time.Millisecond, 3 * time.Second},
		{"Retry-After wins when longer", "30", 60 * time.Second, 60 * time.Second},
		{"Retry-After capped", "86400", 4 * time.Minute, 4 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				emu := herokuemu.New(herokuemu.Config{APIKey: testKey})
				emu.AddApp("myapp")
				emu.SetFail(2, http.StatusTooManyRequests, "rate_limit", "slow down")
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if tc.retryAfter != "" {
						w.Header().Set("Retry-After", tc.retryAfter)
					}
					emu.ServeHTTP(w, r)
				})
				c := newBubbleClient(t, h, heroku.Config{RetryWait: time.Second})
				start := time.Now()
				if _, err := c.ListLogDrains(t.Context(), "myapp"); err != nil {
					t.Fatal(err)
				}
				if got := time.Since(start); got < tc.min || got > tc.max {
					t.Fatalf("waited %v, want within [%v, %v]", got, tc.min, tc.max)
				}
			})
		})
	}
}
