package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/heroku"
)

const drainsUsage = `usage:
  drainpipe drains add APP [--heroku [--syslog URL] | --heroku-token TOKEN | --fir] [--cloudwatch-group G] [--json]
  drainpipe drains list [--check] [--json]
  drainpipe drains remove APP [--keep-heroku]
(each with --help for its flags)`

func drainsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("drains: want add, list or remove\n%s", drainsUsage)
	}
	if isHelp(args[0]) {
		fmt.Fprintln(stderr, drainsUsage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "add":
		return drainsAdd(ctx, args[1:], stdout, stderr)
	case "list":
		return drainsList(ctx, args[1:], stdout, stderr)
	case "remove":
		return drainsRemove(ctx, args[1:], stdout, stderr)
	}
	return usagef("drains: unknown subcommand %q\n%s", args[0], drainsUsage)
}

// addFlags are the flags of `drains add`.
type addFlags struct {
	client          clientFlags
	group, syslog   *string
	token           *string
	onHeroku        *bool
	fir             *bool // print the heroku telemetry:add command of a Fir app
	app             string
	syslogOnHeroku  bool // --heroku --syslog: Heroku is given the syslog address
	syslogByToken   bool // --heroku-token: the user registered a syslog drain
	herokuGivenHTTP bool // --heroku alone: Heroku is given the HTTPS URL
}

func parseAddFlags(args []string, stderr io.Writer) (addFlags, error) {
	f := newFlags("drains add", stderr)
	a := addFlags{client: addClientFlags(f)}
	a.group = f.String("cloudwatch-group", "", "CloudWatch log group for this drain's lines, instead of --cloudwatch-group's template")
	a.onHeroku = f.Bool("heroku", false, "also register the drain on Heroku (HEROKU_API_KEY, or ~/.netrc from 'heroku login')")
	a.syslog = f.String("syslog", "", "drainpipe's syslog+tls:// (or syslog://) address: with --heroku, register it instead of the HTTPS URL")
	a.token = f.String("heroku-token", "", "the Heroku drain token (d.<uuid>) of a syslog drain you registered yourself")
	a.fir = f.Bool("fir", false, "print the 'heroku telemetry:add' command for a Fir app's OpenTelemetry logs and metrics instead of a drain URL")
	pos, err := f.parse(args)
	if err != nil {
		return a, err
	}
	if len(pos) != 1 {
		return a, usagef("usage: drainpipe drains add APP [--heroku [--syslog URL] | --heroku-token TOKEN | --fir] [--cloudwatch-group G] [--json]")
	}
	a.app = pos[0]
	if *a.fir && (*a.onHeroku || *a.syslog != "" || *a.token != "") {
		return a, usagef("--fir prints the telemetry drain command to run; --heroku, --syslog and --heroku-token are for logplex and syslog drains")
	}
	if *a.onHeroku && *a.token != "" {
		return a, usagef("--heroku registers a new drain on Heroku, --heroku-token records one you made: give one of them")
	}
	if *a.syslog != "" {
		u, err := url.Parse(*a.syslog)
		if err != nil || (u.Scheme != "syslog" && u.Scheme != "syslog+tls") || u.Host == "" {
			return a, usagef("--syslog %q: want syslog+tls://HOST:PORT or syslog://HOST:PORT", *a.syslog)
		}
		if !*a.onHeroku {
			return a, usagef("--syslog goes with --heroku, which registers that address on Heroku")
		}
	}
	a.syslogOnHeroku = *a.onHeroku && *a.syslog != ""
	a.syslogByToken = *a.token != ""
	a.herokuGivenHTTP = *a.onHeroku && *a.syslog == ""
	return a, nil
}

func drainsAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a, err := parseAddFlags(args, stderr)
	if err != nil {
		return err
	}
	c, err := a.client.client()
	if err != nil {
		return err
	}
	var hc *heroku.Client
	if *a.onHeroku { // before the drain is made: a missing key leaves nothing to undo
		if hc, err = herokuClient(); err != nil {
			return fmt.Errorf("register %s on Heroku: %w", a.app, err)
		}
	}
	// The drain as it was, to say what --cloudwatch-group changes; best effort, as
	// only the message needs it (a new app has none).
	var before *api.Drain
	if *a.group != "" {
		if prev, err := c.Drain(ctx, a.app); err == nil {
			before = &prev
		}
	}
	d, err := c.AddDrain(ctx, api.AddDrainRequest{App: a.app, CloudWatchGroup: *a.group})
	if err != nil {
		return fmt.Errorf("add drain: %w", err)
	}
	if *a.fir {
		return printFir(stdout, d, *a.client.json)
	}
	var created bool
	switch {
	case *a.onHeroku:
		if d, created, err = registerOnHeroku(ctx, hc, c, d, a, stderr); err != nil {
			return fmt.Errorf("register %s on Heroku: %w", a.app, err)
		}
	case a.syslogByToken:
		created = d.Heroku == nil || d.Heroku.Token != *a.token // else recorded already: nothing changes
		if d, err = recordToken(ctx, c, d, *a.token); err != nil {
			return err
		}
	}
	if a.syslogOnHeroku || a.syslogByToken {
		d.URL = withoutSecret(d.URL) // a syslog drain has no use for it: do not show it
	}
	if *a.client.json {
		return writeJSON(stdout, d)
	}
	printAdded(stdout, d, a, created)
	printGroup(stdout, d, before, *a.group)
	return nil
}

// printGroup says what --cloudwatch-group did to a drain that existed already.
func printGroup(w io.Writer, d api.Drain, before *api.Drain, group string) {
	if group == "" || !d.Existing {
		return
	}
	const after = "The CloudWatch sink sends its lines there from now on; lines it sent before stay where they are."
	switch {
	case before == nil:
		fmt.Fprintf(w, "Its CloudWatch group is now %s. %s\n", d.CloudWatchGroup, after)
	case before.CloudWatchGroup == group:
		fmt.Fprintf(w, "Its CloudWatch group is %s already: nothing changed.\n", group)
	case before.CloudWatchGroup == "":
		fmt.Fprintf(w, "Changed its CloudWatch group to %s (it was the server's --cloudwatch-group template). %s\n", group, after)
	default:
		fmt.Fprintf(w, "Changed its CloudWatch group from %s to %s. %s\n", before.CloudWatchGroup, group, after)
	}
}

// registerOnHeroku registers d on Heroku: its HTTPS URL (which holds the secret,
// so only right after the drain was made) or drainpipe's syslog address.
func registerOnHeroku(ctx context.Context, hc *heroku.Client, c *api.Client, d api.Drain, a addFlags, stderr io.Writer) (api.Drain, bool, error) {
	target := *a.syslog
	if target == "" && !d.Existing {
		target = d.URL
		if !strings.HasPrefix(target, "https://") {
			fmt.Fprintf(stderr, "warning: %s is not an HTTPS URL; Heroku needs a public HTTPS URL to deliver to (set --public-url on the server)\n", redactURL(target))
		}
	}
	res, err := hc.Register(ctx, adminDrains{c}, heroku.Registration{App: d.App, URL: target, New: !d.Existing, Current: d.Heroku})
	if errors.Is(err, heroku.ErrNoURL) {
		return d, false, fmt.Errorf("%s already has drain %s, whose secret is not stored, so its URL cannot be given to Heroku again: run `drainpipe drains remove %s`, then add it again with --heroku", d.App, d.ID, d.App)
	}
	var other *heroku.RegisteredError
	if errors.As(err, &other) {
		return d, false, fmt.Errorf("%w. A drain has one Heroku registration, so nothing was changed: to change it, run `drainpipe drains remove %s`%s, then `drainpipe drains add %s --heroku%s`",
			err, d.App, removalOnHeroku(other), d.App, syslogFlag(*a.syslog))
	}
	if err != nil {
		return d, false, err
	}
	d.Heroku = &res.Drain
	return d, res.Created, nil
}

// removalOnHeroku says what `drains remove` does with the registration that
// refused another one.
func removalOnHeroku(e *heroku.RegisteredError) string {
	switch {
	case e.Gone:
		return ""
	case e.Current.ID == "":
		return fmt.Sprintf(" and remove Heroku drain %s, which you added, with `heroku drains:remove %s -a %s`", e.Current.Token, e.Current.Token, e.App)
	}
	return fmt.Sprintf(" (it removes Heroku drain %s too)", e.Current.Token)
}

func syslogFlag(addr string) string {
	if addr == "" {
		return ""
	}
	return " --syslog " + addr
}

// recordToken records the Heroku drain token of a syslog drain the user made; a
// drain made for it is removed again when the token is refused (another drain's).
func recordToken(ctx context.Context, c *api.Client, d api.Drain, token string) (api.Drain, error) {
	stored, err := c.SetHeroku(ctx, d.App, drainpipe.HerokuDrain{Token: token})
	if err != nil {
		if !d.Existing {
			if _, rerr := c.RemoveDrain(ctx, d.App); rerr != nil {
				err = fmt.Errorf("%w (and removing the new drain failed: %v)", err, rerr)
			}
		}
		return d, fmt.Errorf("record the Heroku token: %w", err)
	}
	stored.URL, stored.Existing = d.URL, d.Existing
	return stored, nil
}

// withoutSecret is a drain URL with its user (the drain id) but not its secret.
func withoutSecret(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = url.User(u.User.Username())
	return u.String()
}

// redactURL hides the password of a URL for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a URL that does not parse)"
	}
	return u.Redacted()
}

// printAdded says what `drains add` did, and only that: a Heroku registration is
// mentioned when Heroku was called, and a syslog drain shows its syslog address,
// never an HTTPS URL with a secret.
func printAdded(w io.Writer, d api.Drain, a addFlags, created bool) {
	switch {
	case a.syslogOnHeroku:
		how := "Registered on Heroku"
		if !created {
			how = "Heroku already had it"
		}
		fmt.Fprintf(w, "%s: %s, as drain %s.\nLines whose HOSTNAME is %s are stored for %s.\n", *a.syslog, how, d.Heroku.Token, d.Heroku.Token, d.App)
		return
	case a.syslogByToken && !created:
		fmt.Fprintf(w, "%s's drain has Heroku drain token %s already: nothing changed. Syslog lines whose HOSTNAME is %s are stored for %s.\n", d.App, d.Heroku.Token, d.Heroku.Token, d.App)
		return
	case a.syslogByToken:
		fmt.Fprintf(w, "Recorded Heroku drain token %s for %s: syslog lines whose HOSTNAME is %s are stored for %s.\n", d.Heroku.Token, d.App, d.Heroku.Token, d.App)
		fmt.Fprintf(w, "(drainpipe made no call to Heroku: the syslog drain is the one you added with `heroku drains:add syslog+tls://... -a %s`.)\n", d.App)
		return
	case d.Existing && !a.herokuGivenHTTP:
		fmt.Fprintf(w, "%s already has drain %s. Its secret was shown once, when it was added, and is not stored.\n", d.App, d.ID)
		fmt.Fprintf(w, "URL without its secret: %s\nTo get a new URL: drainpipe drains remove %s && drainpipe drains add %s\n", d.URL, d.App, d.App)
		return
	case a.herokuGivenHTTP:
		if !d.Existing {
			fmt.Fprintln(w, d.URL)
		}
		how := "Registered on Heroku as drain"
		if !created {
			how = "Heroku already has it, as drain"
		}
		fmt.Fprintf(w, "%s %s.\n", how, d.Heroku.Token)
		return
	}
	fmt.Fprintln(w, d.URL)
	fmt.Fprintf(w, "\nGive it to Heroku (the URL holds the drain's secret: it is shown only now):\n  heroku drains:add '%s' -a %s\n", d.URL, d.App)
	if !strings.HasPrefix(d.URL, "https://") {
		fmt.Fprintf(w, "Note: Heroku needs a public HTTPS URL; run the server with --public-url https://... behind TLS.\n")
	}
}

func drainsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("drains list", stderr)
	cf := addClientFlags(f)
	check := f.Bool("check", false, "ask Heroku whether each registered drain is still there")
	if pos, err := f.parse(args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("usage: drainpipe drains list [--check] [--json]")
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	ds, err := c.Drains(ctx)
	if err != nil {
		return fmt.Errorf("list drains: %w", err)
	}
	if *check {
		hc, err := herokuClient()
		if err != nil {
			return err
		}
		if err := checkOnHeroku(ctx, hc, ds); err != nil {
			return fmt.Errorf("check on Heroku: %w", err)
		}
	}
	if *cf.json {
		return writeJSON(stdout, ds)
	}
	return printDrains(stdout, ds)
}

func printDrains(w io.Writer, ds []api.Drain) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tDRAIN\tLINES\tMALFORMED\tDROPPED BY HEROKU\tLAST LINE\tHEROKU\tSINKS")
	for _, d := range ds {
		last := "-"
		if d.LastLine != nil {
			last = d.LastLine.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", d.App, d.ID, d.Lines, d.Malformed, d.DroppedByHeroku, last, tableCell(herokuColumn(d)), sinksColumn(d.Sinks))
	}
	return tw.Flush()
}

// sinksColumn prints sink statuses as "cloudwatch=ok", sorted by sink. A status
// may hold a store's error (CloudWatch's, a disk's): its control characters, TAB
// included, are escaped (tableCell), so it can neither drive the terminal nor
// break the table.
func sinksColumn(m map[string]string) string {
	if len(m) == 0 {
		return "-"
	}
	var parts []string
	for k, v := range m {
		parts = append(parts, tableCell(k+"="+v))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func drainsRemove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("drains remove", stderr)
	cf := addClientFlags(f)
	keep := f.Bool("keep-heroku", false, "leave the drain's registration on Heroku in place")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: drainpipe drains remove APP [--keep-heroku]")
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	d, err := c.Drain(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("remove drain: %w", err)
	}
	removedOnHeroku := false
	if d.Heroku != nil && d.Heroku.ID != "" && !*keep {
		hc, err := herokuClient()
		if err != nil {
			return fmt.Errorf("remove %s's drain on Heroku: %w (or pass --keep-heroku to leave it in place)", d.App, err)
		}
		if removedOnHeroku, err = hc.Unregister(ctx, d.App, *d.Heroku); err != nil {
			return fmt.Errorf("remove %s's drain on Heroku: %w", d.App, err)
		}
	}
	if d, err = c.RemoveDrain(ctx, pos[0]); err != nil {
		return fmt.Errorf("remove drain: %w", err)
	}
	if *cf.json {
		return writeJSON(stdout, d)
	}
	printRemoved(stdout, d, *keep, removedOnHeroku)
	return nil
}

// printRemoved says what `drains remove` did on each side, and only that.
func printRemoved(w io.Writer, d api.Drain, kept, removedOnHeroku bool) {
	fmt.Fprintf(w, "Removed drain %s of %s: its URL is refused from now on. Stored lines stay until retention.\n", d.ID, d.App)
	switch {
	case d.Heroku == nil:
		fmt.Fprintf(w, "On Heroku's side, if you added it there: heroku drains:remove <its URL> -a %s\n", d.App)
	case d.Heroku.ID == "":
		fmt.Fprintf(w, "Its Heroku drain %s was added by you, not by drainpipe: heroku drains:remove %s -a %s\n", d.Heroku.Token, d.Heroku.Token, d.App)
	case kept:
		fmt.Fprintf(w, "Its Heroku drain %s is left in place (--keep-heroku): heroku drains:remove %s -a %s\n", d.Heroku.Token, d.Heroku.Token, d.App)
	case removedOnHeroku:
		fmt.Fprintf(w, "Removed its Heroku drain %s too.\n", d.Heroku.Token)
	default:
		fmt.Fprintf(w, "Heroku no longer had its drain %s.\n", d.Heroku.Token)
	}
}
