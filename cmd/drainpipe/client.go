package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe/api"
)

// clientFlags are the flags every client command shares.
type clientFlags struct {
	server, token, data *string
	json                *bool
}

func addClientFlags(f *flags) clientFlags {
	return clientFlags{
		server: f.string("server", "http://127.0.0.1:8080", "drainpipe server URL"),
		token:  f.string("token", "", "admin token (default: read from <data>/admin-token)"),
		data:   f.string("data", "./drainpipe-data", "data directory whose admin-token is used when --token is not given"),
		json:   f.Bool("json", false, "print JSON"),
	}
}

func (c clientFlags) client() (*api.Client, error) {
	token := *c.token
	if token == "" {
		raw, err := os.ReadFile(filepath.Join(*c.data, "admin-token"))
		if err != nil {
			return nil, fmt.Errorf("no admin token: pass --token or set DRAINPIPE_TOKEN, or run where %s is readable", filepath.Join(*c.data, "admin-token"))
		}
		token = strings.TrimSpace(string(raw))
	}
	return api.NewClient(*c.server, token), nil
}

func tail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("tail", stderr)
	cf := addClientFlags(f)
	n := f.Int("n", 100, "number of lines")
	follow := f.Bool("follow", false, "keep printing new lines as they arrive")
	f.BoolVar(follow, "f", false, "short for --follow")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: drainpipe tail APP [-n N] [--follow] [--json]")
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	lines, err := c.Tail(ctx, pos[0], *n)
	if err != nil {
		return fmt.Errorf("tail %s: %w", pos[0], err)
	}
	p := linePrinter{w: stdout, json: *cf.json}
	if err := p.print(lines); err != nil || !*follow {
		return err
	}
	var last int64
	if len(lines) > 0 {
		last = lines[len(lines)-1].ID
	} else if latest, err := c.Tail(ctx, pos[0], 1); err == nil && len(latest) > 0 {
		last = latest[0].ID
	}
	err = c.Follow(ctx, pos[0], last, p.print, func(err error) {
		if err != nil {
			fmt.Fprintf(stderr, "drainpipe: lost the server (%v); following again when it is back\n", err)
		} else {
			fmt.Fprintln(stderr, "drainpipe: the server is back; following from the last line printed")
		}
	})
	if err != nil {
		return fmt.Errorf("follow %s: %w", pos[0], err)
	}
	return nil
}

func search(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("search", stderr)
	cf := addClientFlags(f)
	since := f.String("since", "", "only lines at or after this time: a duration ago (24h) or RFC 3339")
	until := f.String("until", "", "only lines before this time: a duration ago or RFC 3339")
	limit := f.Int("limit", 1000, "most lines to print")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("usage: drainpipe search APP QUERY [--since D] [--until T] (QUERY is FTS5 syntax: 'H12 OR R14', '\"Request timeout\"')")
	}
	q := api.SearchQuery{App: pos[0], Match: pos[1], Limit: *limit}
	if q.Since, err = parseWhen(*since, "--since"); err != nil {
		return err
	}
	if q.Until, err = parseWhen(*until, "--until"); err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	lines, err := c.Search(ctx, q)
	if err != nil {
		var se *api.StatusError
		if errors.As(err, &se) && se.Code == 400 {
			return usagef("search: %s", se.Message)
		}
		return fmt.Errorf("search %s: %w", q.App, err)
	}
	return linePrinter{w: stdout, json: *cf.json}.print(lines)
}

// parseWhen reads a time flag: a duration ago ("24h") or an RFC 3339 time.
func parseWhen(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Time{}, usagef("%s: want a duration ago (24h, 90m) or an RFC 3339 time, not %q", name, v)
}

// linePrinter prints lines like `heroku logs`, or as JSON objects one per line.
type linePrinter struct {
	w    io.Writer
	json bool
}

// herokuTime is the timestamp layout of `heroku logs`.
const herokuTime = "2006-01-02T15:04:05.000000-07:00"

func (p linePrinter) print(lines []api.Line) error {
	enc := json.NewEncoder(p.w)
	for _, l := range lines {
		var err error
		if p.json {
			err = enc.Encode(l)
		} else {
			_, err = fmt.Fprintln(p.w, formatLine(l))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func formatLine(l api.Line) string {
	if l.Malformed {
		return fmt.Sprintf("%s drainpipe[malformed]: %s", l.Received.UTC().Format(herokuTime), l.Message)
	}
	switch {
	case l.Dyno != "":
		return fmt.Sprintf("%s %s[%s]: %s", l.Time.UTC().Format(herokuTime), l.Source, l.Dyno, l.Message)
	case l.Source != "":
		return fmt.Sprintf("%s %s: %s", l.Time.UTC().Format(herokuTime), l.Source, l.Message)
	}
	return fmt.Sprintf("%s %s", l.Time.UTC().Format(herokuTime), l.Message)
}
