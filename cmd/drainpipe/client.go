package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/drainpipe/drainpipe"
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

func drains(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("drains: want add, list or remove")
	}
	f := newFlags("drains "+args[0], stderr)
	cf := addClientFlags(f)
	var group, syslogURL, token *string
	var onHeroku, keepHeroku, check *bool
	switch args[0] {
	case "add":
		group = f.String("cloudwatch-group", "", "CloudWatch log group for this drain's lines, instead of --cloudwatch-group's template")
		onHeroku = f.Bool("heroku", false, "also register the drain on Heroku (HEROKU_API_KEY, or ~/.netrc from `heroku login`)")
		syslogURL = f.String("syslog", "", "with --heroku: register this syslog+tls:// (or syslog://) URL of drainpipe's syslog listener instead of the HTTPS URL")
		token = f.String("heroku-token", "", "the Heroku drain token (d.<uuid>) of a syslog drain you registered yourself")
	case "remove":
		keepHeroku = f.Bool("keep-heroku", false, "leave the drain's registration on Heroku in place")
	case "list":
		check = f.Bool("check", false, "ask Heroku whether each registered drain is still there")
	}
	pos, err := f.parse(args[1:])
	if err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil && args[0] != "help" {
		return err
	}
	switch args[0] {
	case "add":
		if len(pos) != 1 {
			return usagef("usage: drainpipe drains add APP")
		}
		d, err := c.AddDrain(ctx, api.AddDrainRequest{App: pos[0], CloudWatchGroup: *group})
		if err != nil {
			return fmt.Errorf("add drain: %w", err)
		}
		switch {
		case *onHeroku:
			if d, err = addOnHeroku(ctx, c, d, *syslogURL, stderr); err != nil {
				return fmt.Errorf("register %s on Heroku: %w", pos[0], err)
			}
		case *token != "":
			url := d.URL
			if d, err = c.SetHeroku(ctx, d.App, drainpipe.HerokuDrain{Token: *token}); err != nil {
				return fmt.Errorf("store the Heroku token: %w", err)
			}
			d.URL = url
		}
		return printAdded(stdout, d, *cf.json)
	case "list":
		ds, err := c.Drains(ctx)
		if err != nil {
			return fmt.Errorf("list drains: %w", err)
		}
		if *check {
			if err := checkOnHeroku(ctx, ds); err != nil {
				return err
			}
		}
		return printDrains(stdout, ds, *cf.json)
	case "remove":
		if len(pos) != 1 {
			return usagef("usage: drainpipe drains remove APP")
		}
		d, err := c.Drain(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("remove drain: %w", err)
		}
		if d.Heroku != nil && d.Heroku.ID != "" && !*keepHeroku {
			if err := removeOnHeroku(ctx, d); err != nil {
				return fmt.Errorf("remove %s's drain on Heroku: %w", d.App, err)
			}
		}
		d, err = c.RemoveDrain(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("remove drain: %w", err)
		}
		if *cf.json {
			return json.NewEncoder(stdout).Encode(d)
		}
		fmt.Fprintf(stdout, "Removed drain %s of %s: its URL is refused from now on. Stored lines stay until retention.\n", d.ID, d.App)
		if d.Heroku == nil || *keepHeroku {
			fmt.Fprintf(stdout, "On Heroku's side, if you added it there: heroku drains:remove <its URL or token> -a %s\n", d.App)
		} else {
			fmt.Fprintf(stdout, "Removed its Heroku drain %s too.\n", d.Heroku.Token)
		}
		return nil
	}
	return usagef("drains: unknown subcommand %q: want add, list or remove", args[0])
}

func printAdded(w io.Writer, d api.Drain, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(d)
	}
	if d.Existing {
		fmt.Fprintf(w, "%s already has drain %s. Its secret was shown once, when it was added, and is not stored.\n", d.App, d.ID)
		fmt.Fprintf(w, "URL without its secret: %s\nTo get a new URL: drainpipe drains remove %s && drainpipe drains add %s\n", d.URL, d.App, d.App)
		return nil
	}
	fmt.Fprintln(w, d.URL)
	if d.Heroku != nil {
		fmt.Fprintf(w, "\nRegistered on Heroku as drain %s.\n", d.Heroku.Token)
		return nil
	}
	fmt.Fprintf(w, "\nGive it to Heroku (the URL holds the drain's secret: it is shown only now):\n  heroku drains:add '%s' -a %s\n", d.URL, d.App)
	if !strings.HasPrefix(d.URL, "https://") {
		fmt.Fprintf(w, "Note: Heroku needs a public HTTPS URL; run the server with --public-url https://... behind TLS.\n")
	}
	return nil
}

func printDrains(w io.Writer, ds []api.Drain, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(ds)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tDRAIN\tLINES\tMALFORMED\tDROPPED BY HEROKU\tLAST LINE\tHEROKU\tSINKS")
	for _, d := range ds {
		last := "-"
		if d.LastLine != nil {
			last = d.LastLine.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", d.App, d.ID, d.Lines, d.Malformed, d.DroppedByHeroku, last, herokuColumn(d), sinkStatus(d.Sinks))
	}
	return tw.Flush()
}

// sinkStatus prints sink statuses as "cloudwatch=ok", sorted by sink.
func sinkStatus(m map[string]string) string {
	if len(m) == 0 {
		return "-"
	}
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
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
	for {
		more, err := c.After(ctx, pos[0], last, 25*time.Second)
		if ctx.Err() != nil {
			return nil // interrupted: following ends normally
		}
		if err != nil {
			return fmt.Errorf("follow %s: %w", pos[0], err)
		}
		if err := p.print(more); err != nil {
			return err
		}
		if len(more) > 0 {
			last = more[len(more)-1].ID
		}
	}
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
		return usagef("usage: drainpipe search APP QUERY [--since D] [--until T] (QUERY is a LogsQL filter: 'H12 OR R14', '\"Request timeout\"', 'status:=503')")
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
	return fmt.Sprintf("%s %s[%s]: %s", l.Time.UTC().Format(herokuTime), l.Source, l.Dyno, l.Message)
}
