package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/api"
)

const alertsUsage = `usage:
  drainpipe alerts add NAME --app APP (--query Q | --preset P | --metric SERIES --agg p95) [--kind match|absence|metric]
        [--threshold N] [--below] [--window 1m] [--for N] [--recover N] [--group-by dyno,code] [--renotify 1h]
        [--mute-daily 22:00-06:00 [--timezone Europe/Paris]] --notify URL [--notify URL...]
  drainpipe alerts list [--json]
  drainpipe alerts remove NAME
  drainpipe alerts mute NAME --for 2h          (--for 0 unmutes)
  drainpipe alerts test NAME --since 24h       what the rule would have done; sends nothing
  drainpipe alerts history NAME [--limit 50]
  drainpipe alerts presets
URL: slack+https://hooks.slack.com/services/..., pagerduty://ROUTING_KEY, webhook+https://host/path[#secret=S],
     smtp://user:pass@host:587/?to=a@example.com&from=b@example.com`

// listFlag is a flag that may be given more than once.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func alertsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("alerts: want add, list, remove, mute, test, history or presets\n%s", alertsUsage)
	}
	if isHelp(args[0]) {
		fmt.Fprintln(stderr, alertsUsage)
		return flag.ErrHelp
	}
	sub := args[0]
	f := newFlags("alerts "+sub, stderr)
	cf := addClientFlags(f)
	var run func(*api.Client, []string) error
	switch sub {
	case "add":
		run = alertAddFlags(ctx, f, stdout, stderr)
	case "list":
		run = func(c *api.Client, pos []string) error { return alertList(ctx, c, pos, stdout, *cf.json) }
	case "remove":
		run = func(c *api.Client, pos []string) error { return alertRemove(ctx, c, pos, stdout, *cf.json) }
	case "mute":
		d := f.Duration("for", -1, "how long to hold the rule's firing notifications back (0 unmutes)")
		run = func(c *api.Client, pos []string) error {
			if *d < 0 {
				return usagef("alerts mute: give --for 2h (or --for 0 to unmute)")
			}
			return alertMute(ctx, c, pos, *d, stdout, *cf.json)
		}
	case "test":
		since := f.String("since", "24h", "start of the backtest: T (24h, 7d, yesterday, 2026-11-28, an RFC 3339 time)")
		run = func(c *api.Client, pos []string) error { return alertTest(ctx, c, pos, *since, stdout, *cf.json) }
	case "history":
		limit := f.Int("limit", 50, "the newest events to show (0: all kept)")
		run = func(c *api.Client, pos []string) error { return alertHistory(ctx, c, pos, *limit, stdout, *cf.json) }
	case "presets":
		run = func(c *api.Client, _ []string) error { return alertPresets(ctx, c, stdout, *cf.json) }
	default:
		return usagef("alerts: unknown subcommand %q\n%s", sub, alertsUsage)
	}
	pos, err := f.parse(args[1:])
	if err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	return run(c, pos)
}

func oneName(pos []string, sub string) (string, error) {
	if len(pos) != 1 {
		return "", usagef("usage: drainpipe alerts %s NAME ...\n%s", sub, alertsUsage)
	}
	return pos[0], nil
}

// alertAddFlags declares add's flags and returns what runs it.
func alertAddFlags(ctx context.Context, f *flags, stdout, stderr io.Writer) func(*api.Client, []string) error {
	var r api.AlertRule
	f.StringVar(&r.App, "app", "", "the app whose lines are watched ('*' for every app)")
	f.StringVar(&r.Kind, "kind", "", "match (lines ≥ threshold; with --below ≤), absence (no line) or metric")
	f.StringVar(&r.Query, "query", "", "the lines to count, in the words of drainpipe search")
	f.StringVar(&r.Preset, "preset", "", "a Heroku preset: "+strings.Join(alert.PresetNames(), ", "))
	f.StringVar(&r.Metric, "metric", "", "a metric series (router.service, memory_rss/memory_quota, router.status.5xx)")
	f.StringVar(&r.Agg, "agg", "", "the metric's statistic: count, sum, min, max, mean, last, p50, p95, p99")
	f.Float64Var(&r.Threshold, "threshold", 0, "count (match: fires at ≥) or value (metric: fires above)")
	f.BoolVar(&r.Below, "below", false, "fire at ≤ threshold (match) or under it (metric)")
	f.StringVar(&r.Window, "window", "1m", "window length")
	f.IntVar(&r.For, "for", 1, "consecutive breaching windows before firing")
	rec := f.String("recover", "", "recovery threshold: a firing group resolves only once its value is back past it (default the threshold)")
	group := f.String("group-by", "", "fields to group by, e.g. dyno,code (each group fires on its own; at most 100)")
	f.StringVar(&r.Renotify, "renotify", "", "repeat the firing notification this often while it lasts (e.g. 1h)")
	var daily, notify listFlag
	f.Var(&daily, "mute-daily", "mute every day over HH:MM-HH:MM (repeatable)")
	tz := f.String("timezone", "", "time zone of --mute-daily (default UTC)")
	f.Var(&notify, "notify", "destination URL (repeatable)")
	asJSON := f.Lookup("json")
	return func(c *api.Client, pos []string) error {
		name, err := oneName(pos, "add")
		if err != nil {
			return err
		}
		r.Name, r.Notify = name, notify
		if r.App == "" {
			return usagef("alerts add: give --app APP, or --app '*' for every app")
		}
		if len(notify) == 0 {
			return usagef("alerts add: give at least one --notify URL")
		}
		if *rec != "" {
			v, err := strconv.ParseFloat(*rec, 64)
			if err != nil {
				return usagef("--recover %q: want a number", *rec)
			}
			r.Recover = &v
		}
		if *group != "" {
			r.GroupBy = strings.Split(*group, ",")
		}
		if len(daily) > 0 || *tz != "" {
			r.Mute = &api.AlertMute{Daily: daily, Timezone: *tz}
		}
		st, err := c.AddAlert(ctx, r)
		if err != nil {
			return fmt.Errorf("add alert %s: %w", name, err)
		}
		warnWithoutDrain(ctx, c, st.Rule.App, stderr)
		if asJSON.Value.String() == "true" {
			return writeJSON(stdout, st)
		}
		verb := "Added"
		if st.Replaced {
			verb = "Replaced"
		}
		fmt.Fprintf(stdout, "%s alert %s: %s %s in %s, windows of %s; notifies %s\n", verb, st.Rule.Name,
			st.Rule.Kind, describeRule(st.Rule), appName(st.Rule.App), st.Rule.Window, strings.Join(st.Rule.Notify, ", "))
		return nil
	}
}

// warnWithoutDrain says on stderr when a rule's app has no drain: a mistyped
// name makes a rule that never fires, and says nothing. A rule may be set up
// before its drain, so it is a note, not a refusal.
func warnWithoutDrain(ctx context.Context, c *api.Client, app string, stderr io.Writer) {
	if app == "" || app == "*" {
		return
	}
	ds, err := c.Drains(ctx)
	if err != nil || slices.ContainsFunc(ds, func(d api.Drain) bool { return d.App == app }) {
		return
	}
	fmt.Fprintf(stderr, "note: app %s has no drain (`drainpipe drains list` shows the apps): the rule counts its lines once they arrive\n", app)
}

func describeRule(r api.AlertRule) string {
	what := r.Query
	if r.Metric != "" {
		what = r.Metric
	}
	s := fmt.Sprintf("%q: %s", what, r.Condition)
	if r.Preset != "" {
		s += " (preset " + r.Preset + ")"
	}
	if len(r.GroupBy) > 0 {
		s += " by " + strings.Join(r.GroupBy, ",")
	}
	if r.For > 1 {
		s += fmt.Sprintf(" for %d windows", r.For)
	}
	return s
}

func appName(app string) string {
	if app == "" {
		return "every app"
	}
	return app
}

func alertList(ctx context.Context, c *api.Client, pos []string, stdout io.Writer, asJSON bool) error {
	if len(pos) != 0 {
		return usagef("usage: drainpipe alerts list [--json]")
	}
	all, err := c.Alerts(ctx)
	if err != nil {
		return fmt.Errorf("list alerts: %w", err)
	}
	if asJSON {
		if all == nil {
			all = []api.AlertStatus{}
		}
		return writeJSON(stdout, all)
	}
	if len(all) == 0 {
		fmt.Fprintln(stdout, "No alert rules. Add one with `drainpipe alerts add NAME --app APP --preset router-errors --notify URL`.")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tAPP\tRULE\tSTATE\tLAST WINDOW (UTC)\tLAST NOTIFICATION")
	for _, st := range all {
		state := st.State
		if st.Muted {
			state += " (muted)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", st.Rule.Name, appName(st.Rule.App), st.Rule.Kind+" "+describeRule(st.Rule),
			state, windowText(st.LastWindow), deliveryText(st.LastDelivery))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, st := range all {
		printAlertDetails(stdout, st)
	}
	return nil
}

// printAlertDetails prints what a rule's line cannot hold: its groups, why it
// waits, what fails.
func printAlertDetails(w io.Writer, st api.AlertStatus) {
	var lines []string
	for _, g := range st.Groups {
		if g.Label == "" && g.State == alert.StateOK {
			continue
		}
		s := fmt.Sprintf("%s %s, value %s", orWhole(g.Label), g.State, strconv.FormatFloat(g.Value, 'g', 6, 64))
		if g.FiringSince != nil && g.State == alert.StateFiring {
			s += ", firing since " + g.FiringSince.UTC().Format(time.RFC3339)
		}
		lines = append(lines, s)
	}
	if st.Excess > 0 {
		lines = append(lines, fmt.Sprintf("%d more groups over the cap of %d were not evaluated", st.Excess, alert.MaxGroups))
	}
	if st.Waiting != "" {
		lines = append(lines, st.Waiting)
	}
	if st.LastError != "" {
		lines = append(lines, "evaluation failing: "+tableCell(st.LastError))
	}
	for _, p := range st.Outbox {
		s := fmt.Sprintf("%s to %s waiting (%d attempts", p.Event, p.Destination, p.Attempts)
		if p.LastError != "" {
			s += ", last: " + tableCell(p.LastError)
		}
		lines = append(lines, s+")")
	}
	if st.Dropped > 0 {
		lines = append(lines, fmt.Sprintf("%d notifications given up or dropped (see `drainpipe alerts history %s`)", st.Dropped, st.Rule.Name))
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s:\n", st.Rule.Name)
	for _, l := range lines {
		fmt.Fprintf(w, "  %s\n", l)
	}
}

// orWhole is a group's label as shown (see tableCell), or "(whole rule)" for
// a rule without groups.
func orWhole(label string) string {
	if label == "" {
		return "(whole rule)"
	}
	return tableCell(label)
}

func windowText(w *api.AlertWindow) string {
	if w == nil {
		return "-"
	}
	return w.Start.UTC().Format("2006-01-02 15:04:05") + "–" + w.End.UTC().Format("15:04:05")
}

func deliveryText(d *api.AlertDelivery) string {
	if d == nil {
		return "-"
	}
	res := "ok"
	if !d.OK {
		res = "FAILED: " + d.Error
	}
	return fmt.Sprintf("%s %s to %s: %s", d.Time.UTC().Format("2006-01-02 15:04:05"), d.Event, d.Destination, res)
}

func alertRemove(ctx context.Context, c *api.Client, pos []string, stdout io.Writer, asJSON bool) error {
	name, err := oneName(pos, "remove")
	if err != nil {
		return err
	}
	st, err := c.RemoveAlert(ctx, name)
	if err != nil {
		return fmt.Errorf("remove alert %s: %w", name, err)
	}
	if asJSON {
		return writeJSON(stdout, st)
	}
	fmt.Fprintf(stdout, "Removed alert %s.", name)
	if st.State == alert.StateFiring {
		fmt.Fprint(stdout, " Its firing groups are being resolved at their destinations.")
	}
	fmt.Fprintln(stdout)
	return nil
}

func alertMute(ctx context.Context, c *api.Client, pos []string, d time.Duration, stdout io.Writer, asJSON bool) error {
	name, err := oneName(pos, "mute")
	if err != nil {
		return err
	}
	st, err := c.MuteAlert(ctx, name, api.AlertMuteRequest{For: d.String()})
	if err != nil {
		return fmt.Errorf("mute alert %s: %w", name, err)
	}
	if asJSON {
		return writeJSON(stdout, st)
	}
	if st.MutedUntil == nil {
		fmt.Fprintf(stdout, "Alert %s is not muted (its configured quiet hours still apply).\n", name)
		return nil
	}
	fmt.Fprintf(stdout, "Alert %s muted until %s: it is still evaluated; firing notifications are held back, resolutions of what was announced are sent.\n",
		name, st.MutedUntil.UTC().Format(time.RFC3339))
	return nil
}

func alertTest(ctx context.Context, c *api.Client, pos []string, since string, stdout io.Writer, asJSON bool) error {
	name, err := oneName(pos, "test")
	if err != nil {
		return err
	}
	bt, err := c.TestAlert(ctx, name, api.AlertTestRequest{Since: since})
	if err != nil {
		return fmt.Errorf("test alert %s: %w", name, err)
	}
	if asJSON {
		return writeJSON(stdout, bt)
	}
	return printBacktest(stdout, bt)
}

// printBacktest prints what `alerts test` found: each event, then the totals.
func printBacktest(stdout io.Writer, bt api.AlertBacktest) error {
	fmt.Fprintf(stdout, "%s over %s – %s UTC (%d windows); nothing is sent:\n", bt.Rule,
		bt.From.UTC().Format("2006-01-02 15:04:05"), bt.To.UTC().Format("2006-01-02 15:04:05"), bt.Windows)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, e := range bt.Events {
		v := strconv.FormatFloat(e.Value, 'g', 6, 64)
		if e.NoData {
			v = "no data"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", windowText(&e.Window), e.Event, orWhole(e.Group), v)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	still := "none"
	if len(bt.StillFiring) > 0 {
		labels := make([]string, len(bt.StillFiring))
		for i, l := range bt.StillFiring {
			labels[i] = orWhole(l) // "" is the rule without groups
		}
		still = strings.Join(labels, ", ")
	}
	fmt.Fprintf(stdout, "It would have fired %d times and resolved %d times; firing at the end: %s.\n", bt.Fired, bt.Resolved, still)
	return nil
}

func alertHistory(ctx context.Context, c *api.Client, pos []string, limit int, stdout io.Writer, asJSON bool) error {
	name, err := oneName(pos, "history")
	if err != nil {
		return err
	}
	h, err := c.AlertHistory(ctx, name, limit)
	if err != nil {
		return fmt.Errorf("alert history %s: %w", name, err)
	}
	if asJSON {
		return writeJSON(stdout, h)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME (UTC)\tEVENT\tWINDOW\tGROUP\tVALUE\tDETAIL")
	for _, e := range h.Events {
		v := "-"
		if e.Value != nil {
			v = strconv.FormatFloat(*e.Value, 'g', 6, 64)
		}
		detail := tableCell(e.Detail)
		if e.Destination != "" {
			detail = e.Destination + " " + detail
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format("2006-01-02 15:04:05"), e.Type, windowText(e.Window), tableCell(e.Group), v, detail)
	}
	return tw.Flush()
}

func alertPresets(ctx context.Context, c *api.Client, stdout io.Writer, asJSON bool) error {
	ps, err := c.AlertPresets(ctx)
	if err != nil {
		return fmt.Errorf("alert presets: %w", err)
	}
	if asJSON {
		return writeJSON(stdout, ps)
	}
	for _, p := range ps {
		fmt.Fprintf(stdout, "%s\n  %s\n  query %s, threshold %v", p.Name, p.Description, p.Query, p.Threshold)
		if len(p.GroupBy) > 0 {
			fmt.Fprintf(stdout, ", by %s", strings.Join(p.GroupBy, ","))
		}
		fmt.Fprintln(stdout)
	}
	return nil
}
