package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe/httpd"
	"github.com/drainpipe/drainpipe/ui"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/term"
)

// uiFlags are the --ui-* flags of `drainpipe serve`.
type uiFlags struct {
	enabled           *bool
	listen, publicURL *string
	users             *string
	sessionTTL, idle  *time.Duration
	tailRate          *int
}

func addUIFlags(f *flags) uiFlags {
	enabled := f.getenv(envName("ui")) != "false"
	return uiFlags{
		enabled:    f.Bool("ui", enabled, "serve the web UI at /ui/ (DRAINPIPE_UI)"),
		listen:     f.string("ui-listen", "", "serve the web UI on this address instead of --listen, e.g. 127.0.0.1:8081 (the drain port then serves no UI)"),
		publicURL:  f.string("ui-public-url", "", "base URL browsers reach the UI at (default --public-url, or http://<--ui-listen>); https makes the session cookie Secure"),
		users:      f.string("ui-users", "", "file of NAME:BCRYPT-HASH lines who may log in with a password (make lines with 'drainpipe ui-user NAME'); the admin token always logs in"),
		sessionTTL: f.duration("ui-session-ttl", 12*time.Hour, "a UI session's whole life"),
		idle:       f.duration("ui-idle-timeout", time.Hour, "a UI session ends after this long without a request (an open live tail counts)"),
		tailRate:   f.int("ui-tail-rate", 1000, "lines per second a live tail sends before it samples (and says so)"),
	}
}

// serveHTTP serves the drains, the admin API and the web UI until ctx ends: the UI
// on the drain port, or on its own --ui-listen address (with the same connection
// cap and deadlines, through httpd.Listen).
func serveHTTP(ctx context.Context, clock *shutdownClock, c serveConfig, hc httpd.Config, reg *prometheus.Registry, log *slog.Logger) error {
	lc := httpd.ListenConfig{Addr: c.listen, MaxConns: c.maxConns, Logger: log.With("part", "http"), Registerer: reg}
	// The drain listener's start line names the memory limit, its source, and
	// the budget of request bodies in flight that follows from it.
	started := []any{"memory_limit", c.memoryLimit.String(), "memory_limit_from", c.memoryLimit.source,
		"max_body_in_flight", fmt.Sprintf("%dKiB", c.maxBodyInFlight>>10)}
	if !*c.ui.enabled {
		return listenAndServe(ctx, clock, lc, httpd.New(hc, nil), log, started...)
	}
	var srv *httpd.Server
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { srv.ServeHTTP(w, httpd.AsAdmin(r)) })
	u, err := newUI(c, api, hc.AdminTokenHash, reg, log.With("part", "ui"))
	if err != nil {
		return err
	}
	defer context.AfterFunc(ctx, u.Close)()
	if *c.ui.listen == "" {
		hc.UI = u
		srv = httpd.New(hc, nil)
		return listenAndServe(ctx, clock, lc, srv, log, started...)
	}
	srv = httpd.New(hc, nil)
	// The UI's listener has its own cap; its connection metrics are not
	// registered (their names are the drain listener's).
	ulc := httpd.ListenConfig{Addr: *c.ui.listen, MaxConns: c.maxConns, Logger: log.With("part", "ui")}
	errc := make(chan error, 1)
	go func() { errc <- listenAndServe(ctx, clock, ulc, u, log.With("part", "ui")) }()
	err = listenAndServe(ctx, clock, lc, srv, log, started...)
	if uerr := <-errc; err == nil {
		err = uerr
	}
	return err
}

func newUI(c serveConfig, api http.Handler, tokenHash []byte, reg *prometheus.Registry, log *slog.Logger) (*ui.Handler, error) {
	var users *ui.Users
	if *c.ui.users != "" {
		var err error
		if users, err = ui.LoadUsers(*c.ui.users); err != nil {
			return nil, usagef("--ui-users: %v", err)
		}
	}
	public := *c.ui.publicURL
	switch {
	case public != "":
	case *c.ui.listen != "":
		public = derivePublicURL(*c.ui.listen)
	default:
		public = c.publicURL
	}
	return ui.New(ui.Config{
		API: api, AdminTokenHash: tokenHash, Users: users, PublicURL: public,
		SessionTTL: *c.ui.sessionTTL, IdleTimeout: *c.ui.idle, TailRate: *c.ui.tailRate, MetricsInterval: *c.metrics.interval,
		Gatherer: reg, Registerer: reg, Logger: log,
		System: ui.SystemInfo{Version: version(), JournalMaxBytes: c.journalMaxBytes, ArchiveMaxBytes: c.archiveMaxBytes, Started: time.Now()},
	})
}

// uiUser prints a users file line for --ui-users: `drainpipe ui-user NAME`
// reads the password from the terminal (not echoed) or from the first line of
// standard input.
func uiUser(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	f := newFlags("ui-user", stderr)
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] == "" || strings.ContainsAny(pos[0], ": \t") {
		return usagef("usage: drainpipe ui-user NAME (a name without ':' or spaces), then type the password")
	}
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	if len(password) < 12 {
		return usagef("the password is too short: use at least 12 characters")
	}
	hash, err := ui.HashPassword(password)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s:%s\n", pos[0], hash)
	return nil
}

func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		pw, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(pw), nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
