package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/drainpipe/drainpipe/api"
)

// filterFlags are the flags that narrow tail, search and export, as `heroku logs`
// does.
type filterFlags struct {
	source, dyno, since, until *string
}

func addFilterFlags(f *flags) filterFlags {
	return filterFlags{
		source: f.String("source", "", "only lines of this source: app (the app's own output) or heroku (the platform's)"),
		dyno:   f.String("dyno", "", "only lines of this dyno (web.1), or of every dyno of a process type (web)"),
		since:  f.String("since", "", "only lines at or after this time: 24h, 7d (ago), 2026-11-28, 2026-11-28T10:00:00Z, today, yesterday"),
		until:  f.String("until", "", "only lines before this time, same forms; a day counts whole (--until yesterday ends at midnight)"),
	}
}

// search is the api.Search of app and query narrowed by the flags.
func (ff filterFlags) search(app, query string) (api.Search, error) {
	s := api.Search{App: app, Query: query, Source: *ff.source, Dyno: *ff.dyno}
	now := time.Now()
	var err error
	if s.Since, err = parseSince(*ff.since, "--since", now); err != nil {
		return s, err
	}
	if s.Until, err = parseUntil(*ff.until, "--until", now); err != nil {
		return s, err
	}
	return s, emptySpan(s.Since, s.Until, *ff.since, *ff.until)
}

// emptySpan refuses a --since that is not before --until (as typed: since,
// until): the answer could only be empty.
func emptySpan(from, to time.Time, since, until string) error {
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return usagef("--since %s is not before --until %s", since, until)
	}
	return nil
}

// parseSince and parseUntil read a time flag with api.ParseTime: the start, or
// the end, of the span it names; "" is the zero time.
func parseSince(v, name string, now time.Time) (time.Time, error) {
	t, err := api.Since(v, now)
	if err != nil {
		return t, usagef("%s: %v", name, err)
	}
	return t, nil
}

func parseUntil(v, name string, now time.Time) (time.Time, error) {
	t, err := api.Until(v, now)
	if err != nil {
		return t, usagef("%s: %v", name, err)
	}
	return t, nil
}

// request is what tail, search and export start from: the search their
// arguments (APP [QUERY]) and filter flags name, and a client of the server.
func (ff filterFlags) request(pos []string, cf clientFlags) (api.Search, *api.Client, error) {
	s, err := ff.search(pos[0], queryArg(pos))
	if err != nil {
		return api.Search{}, nil, err
	}
	c, err := cf.client()
	return s, c, err
}

// queryArg is the optional QUERY after APP.
func queryArg(pos []string) string {
	if len(pos) > 1 {
		return pos[1]
	}
	return ""
}

// badRequest turns the server's 400 (a bad query, a bad time) into a usage error.
func badRequest(err error, what string) error {
	var se *api.StatusError
	if errors.As(err, &se) && se.Code == 400 {
		return usagef("%s: %s", what, se.Message)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func tail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("tail", stderr)
	cf := addClientFlags(f)
	ff := addFilterFlags(f)
	n := f.Int("n", 100, "number of lines (any number: they stream)")
	follow := f.Bool("follow", false, "keep printing new lines as they arrive")
	f.BoolVar(follow, "f", false, "short for --follow")
	ids := f.Bool("ids", false, "print each line's id first (for 'drainpipe context ID')")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 || *n < 0 {
		return usagef("usage: drainpipe tail APP [QUERY] [-n N] [--follow] [--source S] [--dyno D] [--since T] [--until T] [--json]")
	}
	s, c, err := ff.request(pos, cf)
	if err != nil {
		return err
	}
	p := newLinePrinter(stdout, *cf.json, *ids)
	last, err := c.Tail(ctx, s, *n, p.print)
	if err != nil {
		return badRequest(err, "tail "+s.App)
	}
	if err := p.flush(); err != nil || !*follow {
		return err
	}
	err = c.Follow(ctx, s, last, func(more []api.Line) error {
		for _, l := range more {
			if (s.Until.IsZero() || l.Time.Before(s.Until)) && !l.Time.Before(s.Since) {
				if err := p.print(l); err != nil {
					return err
				}
			}
		}
		return p.flush()
	}, func(err error) {
		if err != nil {
			fmt.Fprintf(stderr, "drainpipe: lost the server (%v); following again when it is back\n", err)
		} else {
			fmt.Fprintln(stderr, "drainpipe: the server is back; following from the last line printed")
		}
	})
	if err != nil {
		return badRequest(err, "follow "+s.App)
	}
	return nil
}

func search(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("search", stderr)
	cf := addClientFlags(f)
	ff := addFilterFlags(f)
	limit := f.Int("limit", 1000, "most lines to print (any number: they come in pages)")
	oldest := f.Bool("oldest-first", false, "print the oldest lines first (default: newest first)")
	ids := f.Bool("ids", false, "print each line's id first (for 'drainpipe context ID')")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 || *limit < 1 {
		return usagef("usage: drainpipe search APP [QUERY] [--since T] [--until T] [--source S] [--dyno D] [--limit N] [--oldest-first] [--json] (QUERY: LogsQL or Heroku words: 'H12 OR R14', status=503, web.1)")
	}
	s, c, err := ff.request(pos, cf)
	if err != nil {
		return err
	}
	p := newLinePrinter(stdout, *cf.json, *ids)
	req := api.PageRequest{Search: s, OldestFirst: *oldest}
	for left := *limit; left > 0; {
		req.Limit = min(left, 10_000)
		page, err := c.Search(ctx, req)
		if err != nil {
			return badRequest(err, "search "+s.App)
		}
		for _, l := range page.Lines {
			if err := p.print(l); err != nil {
				return err
			}
		}
		left -= len(page.Lines)
		if page.Next == "" {
			break
		}
		req.Cursor = page.Next
	}
	return p.flush()
}

// linePrinter prints lines like `heroku logs` (with their ids first when asked),
// or as JSON objects one a line. On a terminal (escape), lines have their
// control characters escaped (see terminal.go): a log line must not be able to
// drive the terminal that shows it.
type linePrinter struct {
	w      io.Writer
	json   bool
	ids    bool
	escape bool
	buf    []byte
	spare  []byte // escapeLast's copy of the part of a line it escapes
}

// newLinePrinter is the printer of a command's stdout w. Whether w is a
// terminal is asked once, here, at the command's start.
func newLinePrinter(w io.Writer, asJSON, ids bool) *linePrinter {
	return newTextPrinter(w, asJSON, ids, isTerminal(w))
}

// newTextPrinter is newLinePrinter told whether w is a terminal, so that a
// test can say so without one.
func newTextPrinter(w io.Writer, asJSON, ids, terminal bool) *linePrinter {
	return &linePrinter{w: w, json: asJSON, ids: ids, escape: terminal}
}

// print adds l to the output, written out every 64 KiB and by flush.
func (p *linePrinter) print(l api.Line) error {
	start := len(p.buf)
	switch {
	case p.json:
		p.buf = api.AppendJSON(p.buf, &l)
		if p.escape {
			p.escapeLast(start, appendJSONEscaped)
		}
	case p.ids:
		p.buf = strconv.AppendInt(p.buf, l.ID, 10)
		p.buf = append(p.buf, ' ')
		fallthrough
	default:
		p.buf = api.AppendText(p.buf, &l)
		if p.escape {
			p.escapeLast(start, appendEscaped)
		}
	}
	if len(p.buf) >= 64<<10 {
		return p.flush()
	}
	return nil
}

func (p *linePrinter) flush() error {
	_, err := p.w.Write(p.buf)
	p.buf = p.buf[:0]
	return err
}
