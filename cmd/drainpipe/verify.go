package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/cloudwatch"
	"github.com/drainpipe/drainpipe/verify"
)

// The CloudWatch Logs client reads the audit back.
var _ verify.CloudWatchAPI = (*cloudwatchlogs.Client)(nil)

func verifyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("verify", stderr)
	cf := addClientFlags(f)
	count := f.Int("count", verify.DefaultCount, "begin/end pairs to send")
	conc := f.Int("concurrency", verify.DefaultConcurrency, "concurrent senders")
	wait := f.Duration("wait", verify.DefaultWait, "how long to wait for stragglers after the last pair is sent")
	from := f.String("from", "archive", "where to read the lines back: archive (drainpipe's admin API) or cloudwatch")
	app := f.String("app", "", "the drain's app (default: looked up by the drain URL's id through the admin API)")
	group := f.String("group", "", "with --from cloudwatch: the log group (default /heroku/APP)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: drainpipe verify DRAIN_URL [--count N] [--concurrency C] [--wait D] [--from archive|cloudwatch --group G] [--json]")
	}
	// A zero would otherwise run with a default the user did not ask for.
	if err := cmp.Or(positive("count", *count), positive("concurrency", *conc), positive("wait", *wait)); err != nil {
		return err
	}
	drainURL := pos[0]
	reader, err := verifyReader(ctx, cf, drainURL, *from, *app, *group)
	if err != nil {
		return err
	}
	cfg := verify.Config{URL: drainURL, Count: *count, Concurrency: *conc, Wait: *wait, Reader: reader}
	if isTerminal(stderr) {
		cfg.Progress = func(r verify.Report) {
			// While reading back, a pair not found yet is not lost yet: "not yet found".
			fmt.Fprintf(stderr, "\rsent %d  found %d  not yet found %d  duplicates %d ", r.Sent, r.Found, r.Missing+r.Unacknowledged, r.Duplicates)
		}
	}
	r, err := verify.Run(ctx, cfg)
	if cfg.Progress != nil {
		fmt.Fprintln(stderr)
	}
	if err != nil && r.RunID == "" {
		return fmt.Errorf("verify: %w", err) // nothing was sent
	}
	// An unfinished run still reports what it sent and what was acknowledged.
	if *cf.json {
		if err := writeJSON(stdout, r); err != nil {
			return err
		}
	} else {
		printReport(stdout, r)
	}
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("verify: interrupted after sending %d of %d pairs (%d acknowledged), before they were all read back: no verdict", r.Sent, *count, r.Acknowledged)
	case errors.Is(err, verify.ErrUnreachable):
		return fmt.Errorf("verify: sent %d of %d pairs (%d acknowledged), then gave up: %w", r.Sent, *count, r.Acknowledged, err)
	case err != nil:
		return fmt.Errorf("verify: sent %d pairs (%d acknowledged), but could not read them back: no verdict: %w", r.Sent, r.Acknowledged, err)
	case !r.OK():
		return fmt.Errorf("%d of %d pairs incomplete (%d lost after a 2xx, %d never acknowledged)", r.Sent-r.Found, r.Sent, r.Missing, r.Unacknowledged)
	}
	return nil
}

// verifyReader builds the read-back: drainpipe's archive, or CloudWatch.
func verifyReader(ctx context.Context, cf clientFlags, drainURL, from, app, group string) (verify.Reader, error) {
	if from != "archive" && from != "cloudwatch" {
		return nil, usagef("--from: want archive or cloudwatch, not %q", from)
	}
	var known *api.Drain // the drain, once the admin API said what it is
	switch {
	case app == "" && (from == "archive" || group == ""):
		d, err := drainOfURL(ctx, cf, drainURL)
		if err != nil {
			return nil, err
		}
		app, known = d.App, &d
	case app != "":
		// The lines of another app's drain are never found under app: every pair
		// would be reported lost. The owner is asked where the command talks to
		// it anyway: the admin API it reads back from, or the Lambda's drains.
		if err := checkDrainApp(ctx, cf, drainURL, app, from == "archive"); err != nil {
			return nil, err
		}
	}
	if from == "archive" {
		c, err := cf.client()
		if err != nil {
			return nil, err
		}
		return verify.NewArchiveReader(c, app), nil
	}
	if group == "" {
		var err error
		if group, err = drainGroup(ctx, cf, drainURL, app, known); err != nil {
			return nil, err
		}
	}
	client, err := cloudwatch.NewClient(ctx, "", "")
	if err != nil {
		return nil, err
	}
	return verify.NewCloudWatchReader(client, group), nil
}

// drainGroup is the log group of the drain of drainURL: its own group
// (`drains add --cloudwatch-group`) when the server it is on says it has one,
// else the default template's, /heroku/APP. A server whose own
// --cloudwatch-group differs needs --group. known is the drain when it was
// looked up already; else the server is asked, and a server that cannot say
// (a Lambda's drain has none) leaves the default.
func drainGroup(ctx context.Context, cf clientFlags, drainURL, app string, known *api.Drain) (string, error) {
	def, _ := cloudwatch.DrainGroup(cloudwatch.DefaultGroupTemplate, app, "")
	d := known
	if d == nil {
		u, err := url.Parse(drainURL)
		if err != nil || u.User == nil {
			return def, nil
		}
		found, ok, err := serverDrain(ctx, cf, u.User.Username())
		if err != nil || !ok {
			return def, nil
		}
		d = &found
	}
	if d.CloudWatchGroup == "" {
		return def, nil
	}
	group, ok := cloudwatch.DrainGroup(d.CloudWatchGroup, app, d.ID)
	if !ok {
		return "", usagef("the drain's CloudWatch group %q names many groups: pass --group with the one to read", d.CloudWatchGroup)
	}
	return group, nil
}

// drainOfURL finds the drain of a drainpipe drain URL by its id (the URL's user).
func drainOfURL(ctx context.Context, cf clientFlags, drainURL string) (api.Drain, error) {
	u, err := url.Parse(drainURL)
	if err != nil || u.User == nil {
		return api.Drain{}, usagef("drain URL %q has no drain id: pass --app", redactURL(drainURL))
	}
	d, ok, err := findDrain(ctx, cf, u.User.Username(), true)
	if err != nil || ok {
		return d, err
	}
	return api.Drain{}, fmt.Errorf("no drain %s on %s: pass --app, or --server for the drainpipe that owns this URL", u.User.Username(), *cf.server)
}

// checkDrainApp refuses --app when the drain of drainURL belongs to another app.
// A drain it cannot find is left to the read-back.
func checkDrainApp(ctx context.Context, cf clientFlags, drainURL, app string, askServer bool) error {
	u, err := url.Parse(drainURL)
	if err != nil || u.User == nil {
		return nil // no id to look up
	}
	d, ok, err := findDrain(ctx, cf, u.User.Username(), askServer)
	if err != nil || !ok || d.App == app {
		return err
	}
	return usagef("drain %s belongs to app %s, not %s: its lines are stored under %s (pass --app %s, or leave --app out)",
		u.User.Username(), d.App, app, d.App, d.App)
}

// findDrain finds drain id among the Lambda's drains (which know only their
// app), then, when askServer, through the admin API; ok is false when neither
// has it.
func findDrain(ctx context.Context, cf clientFlags, id string, askServer bool) (api.Drain, bool, error) {
	if app, ok, err := lambdaAppOf(ctx, id); ok || err != nil {
		return api.Drain{ID: id, App: app}, ok, err // a Lambda's drain, found in DRAINPIPE_LAMBDA_DRAINS
	}
	if !askServer {
		return api.Drain{}, false, nil
	}
	return serverDrain(ctx, cf, id)
}

// serverDrain is drain id as the admin API lists it; ok is false when it has none.
func serverDrain(ctx context.Context, cf clientFlags, id string) (api.Drain, bool, error) {
	c, err := cf.client()
	if err != nil {
		return api.Drain{}, false, err
	}
	ds, err := c.Drains(ctx)
	if err != nil {
		return api.Drain{}, false, fmt.Errorf("look up the drain's app: %w", err)
	}
	for _, d := range ds {
		if d.ID == id {
			return d, true, nil
		}
	}
	return api.Drain{}, false, nil
}

// positive refuses a zero or negative value of a count or duration flag.
func positive[T int | time.Duration](flag string, v T) error {
	if v > 0 {
		return nil
	}
	return usagef("--%s %v: want more than 0", flag, v)
}

func printReport(w io.Writer, r verify.Report) {
	fmt.Fprintf(w, "run %s: %d pairs sent, %d acknowledged, %d complete, %d missing, %d unacknowledged, %d duplicated\n",
		r.RunID, r.Sent, r.Acknowledged, r.Found, r.Missing, r.Unacknowledged, r.Duplicates)
	if r.Unfinished != "" {
		fmt.Fprintf(w, "unfinished, no verdict: the counts are what was known when the run stopped (a pair counted missing may only not have been read back yet): %s\n", r.Unfinished)
	}
	fmt.Fprintf(w, "delivery latency (send to readable): p50 %.0f ms, p99 %.0f ms\n", r.P50Ms, r.P99Ms)
	if len(r.MissingIDs) > 0 {
		fmt.Fprintf(w, "missing ids: %s\n", ids(r.MissingIDs))
	}
	if len(r.UnacknowledgedIDs) > 0 {
		fmt.Fprintf(w, "unacknowledged ids: %s\n", ids(r.UnacknowledgedIDs))
	}
	if r.LastError != "" {
		fmt.Fprintf(w, "last error: %s\n", r.LastError)
	}
}

func ids(v []int) string {
	parts := make([]string, 0, min(len(v), 50))
	for _, id := range v[:min(len(v), 50)] {
		parts = append(parts, fmt.Sprint(id))
	}
	if len(v) > 50 {
		parts = append(parts, fmt.Sprintf("... (%d in all; --json lists every one)", len(v)))
	}
	return strings.Join(parts, " ")
}
