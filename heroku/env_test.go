package heroku_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/heroku"
	"github.com/drainpipe/drainpipe/heroku/herokuemu"
)

const testKey = "0123abcd-4567-89ef-0123-456789abcdef"

// env is a double on a real 127.0.0.1 listener and a client of it whose log lines
// are captured.
type env struct {
	emu    *herokuemu.Server
	client *heroku.Client
	logs   *syncBuffer
	url    string
}

type envOptions struct {
	emu    herokuemu.Config
	client heroku.Config
	// wrap, when set, stands between the client and the double.
	wrap func(http.Handler) http.Handler
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	if o.emu.APIKey == "" {
		o.emu.APIKey = testKey
	}
	emu := herokuemu.New(o.emu)
	e := &env{emu: emu, logs: &syncBuffer{}}
	if o.wrap == nil {
		u, err := emu.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = emu.Close() })
		e.url = u
	} else {
		srv := httptest.NewServer(o.wrap(emu))
		t.Cleanup(srv.Close)
		e.url = srv.URL
	}
	cfg := o.client
	cfg.BaseURL = e.url
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	if cfg.RetryWait == 0 {
		cfg.RetryWait = time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c, err := heroku.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	return e
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
