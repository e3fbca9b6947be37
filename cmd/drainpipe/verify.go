package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
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
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if *cf.json {
		if err := writeJSON(stdout, r); err != nil {
			return err
		}
	} else {
		printReport(stdout, r)
	}
	if !r.OK() {
		return fmt.Errorf("%d of %d pairs incomplete (%d lost after a 2xx, %d never acknowledged)", r.Sent-r.Found, r.Sent, r.Missing, r.Unacknowledged)
	}
	return nil
}

// verifyReader builds the read-back: drainpipe's archive, or CloudWatch.
func verifyReader(ctx context.Context, cf clientFlags, drainURL, from, app, group string) (verify.Reader, error) {
	if from != "archive" && from != "cloudwatch" {
		return nil, usagef("--from: want archive or cloudwatch, not %q", from)
	}
	if app == "" && (from == "archive" || group == "") {
		var err error
		if app, err = appOfDrainURL(ctx, cf, drainURL); err != nil {
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
		group = cloudwatch.GroupName("/heroku/" + app)
	}
	client, err := cloudwatch.NewClient(ctx, "", "")
	if err != nil {
		return nil, err
	}
	return verify.NewCloudWatchReader(client, group), nil
}

// appOfDrainURL finds the app of a drainpipe drain URL by its id (the URL's user).
func appOfDrainURL(ctx context.Context, cf clientFlags, drainURL string) (string, error) {
	u, err := url.Parse(drainURL)
	if err != nil || u.User == nil {
		return "", usagef("drain URL %q has no drain id: pass --app", redactURL(drainURL))
	}
	if app, ok, err := lambdaAppOf(ctx, u.User.Username()); ok || err != nil {
		return app, err // a Lambda's drain, found in DRAINPIPE_LAMBDA_DRAINS
	}
	c, err := cf.client()
	if err != nil {
		return "", err
	}
	ds, err := c.Drains(ctx)
	if err != nil {
		return "", fmt.Errorf("look up the drain's app: %w", err)
	}
	for _, d := range ds {
		if d.ID == u.User.Username() {
			return d.App, nil
		}
	}
	return "", fmt.Errorf("no drain %s on %s: pass --app, or --server for the drainpipe that owns this URL", u.User.Username(), *cf.server)
}

func printReport(w io.Writer, r verify.Report) {
	fmt.Fprintf(w, "run %s: %d pairs sent, %d complete, %d missing, %d unacknowledged, %d duplicated\n",
		r.RunID, r.Sent, r.Found, r.Missing, r.Unacknowledged, r.Duplicates)
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
