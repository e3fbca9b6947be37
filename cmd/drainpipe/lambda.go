package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	awslambda "github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/cloudwatch"
	"github.com/drainpipe/drainpipe/lambda"
	"github.com/drainpipe/drainpipe/metrics"
	"github.com/drainpipe/drainpipe/ssm"
)

// runtimeAPIEnv is set by Lambda (and its emulator) for the runtime to find
// the Runtime API: its presence means this process is a Lambda's bootstrap.
const runtimeAPIEnv = "AWS_LAMBDA_RUNTIME_API"

// inLambda reports whether the command line is what a Lambda's bootstrap runs:
// no arguments (or `serve`) with the Runtime API in the environment.
func inLambda(args []string) bool {
	return os.Getenv(runtimeAPIEnv) != "" && (len(args) == 0 || args[0] == "serve")
}

func lambdaCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("lambda: want run, drains or package")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "run":
		return lambdaRun(ctx, rest, stdout, stderr)
	case "drains":
		return lambdaDrains(ctx, rest, stdout, stderr)
	case "package":
		return lambdaPackage(ctx, rest, stdout, stderr)
	default:
		return usagef("lambda: unknown command %q: want run, drains or package", cmd)
	}
}

// lambdaRun is the function: configured by its environment, it reads its
// drains, then serves invocations from the Runtime API until Lambda ends it.
// Its log goes to stdout, unbuffered, as JSON.
func lambdaRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("lambda run", stderr)
	drainsValue := f.string("lambda-drains", "", "the drains (app:id:hash,...) or ssm:PARAMETER naming a SecureString that holds them")
	timeout := f.duration("lambda-timeout", lambda.DefaultTimeout, "delivery budget of one batch (logplex waits 5 s)")
	margin := f.duration("lambda-margin", lambda.DefaultMargin, "kept back from the invocation's deadline to answer 503 in time")
	dedupTable := f.string("lambda-dedup-table", "", "DynamoDB table recognising retried batches (off when empty)")
	maxBody := f.bytes("max-body", lambda.DefaultMaxBody, "largest drain request body, after decompression")
	level := f.string("log-level", "info", "log level: debug, info, warn, error")
	cw := addCloudWatchFlags(f)
	mf := addMetricsFlags(f)
	if pos, err := f.parse(args); err != nil || len(pos) > 0 {
		return cmpErr(err, usagef("lambda run takes no arguments: the function is configured by its environment"))
	}
	if os.Getenv(runtimeAPIEnv) == "" {
		return usagef("lambda run is what a Lambda function's bootstrap runs: %s is not set (see `drainpipe lambda package`)", runtimeAPIEnv)
	}
	log, err := newLogger(stdout, *level, "json")
	if err != nil {
		return err
	}
	log = slog.New(lambda.LogHandler(log.Handler()))
	fn, err := newFunction(ctx, lambdaConfig{drains: *drainsValue, timeout: *timeout, margin: *margin,
		dedupTable: *dedupTable, maxBody: *maxBody, cw: cw, metrics: mf}, log)
	if err != nil {
		log.Error("drainpipe lambda cannot start", "err", err)
		return err
	}
	awslambda.StartWithOptions(fn.Invoke, awslambda.WithContext(ctx))
	return nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// lambdaConfig is what `drainpipe lambda run` is told.
type lambdaConfig struct {
	drains, dedupTable string
	timeout, margin    time.Duration
	maxBody            int64
	cw                 cloudwatchFlags
	metrics            metricsFlags
}

// newFunction wires the function: the CloudWatch sink in Inline mode, the
// drains (from SSM when the value names a parameter), metrics and dedup.
func newFunction(ctx context.Context, c lambdaConfig, log *slog.Logger) (*lambda.Function, error) {
	cwCfg, err := c.cw.config("")
	if err != nil {
		return nil, err
	}
	// The budget is seconds, not the server's hours: retries start at 50 ms and
	// back off to 500 ms (the server's: 200 ms to 30 s), and the SDK's own retry
	// of a throttled call waits no longer, so a fault is tried again several
	// times before the batch's deadline.
	cwCfg.Inline, cwCfg.BackoffMin, cwCfg.BackoffMax = true, 50*time.Millisecond, 500*time.Millisecond
	client, err := cloudwatch.NewClient(ctx, "", "", func(o *cloudwatchlogs.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, cwCfg.BackoffMax)
	})
	if err != nil {
		return nil, fmt.Errorf("cloudwatch: %w", err)
	}
	cwCfg.Client, cwCfg.Logger = client, log.With("part", "cloudwatch")
	sink, err := cloudwatch.New(cwCfg)
	if err != nil {
		return nil, usagef("cloudwatch: %v", err)
	}
	var params ssm.API
	if strings.HasPrefix(strings.TrimSpace(c.drains), lambda.SSMPrefix) {
		if params, err = ssm.NewClient(ctx); err != nil {
			return nil, err
		}
	}
	src, err := lambda.LoadDrains(ctx, c.drains, params, lambda.SourceOptions{Logger: log})
	if err != nil {
		return nil, err
	}
	cfg := lambda.Config{Drains: src, CloudWatch: sink, Timeout: c.timeout, Margin: c.margin, MaxBody: c.maxBody, Logger: log}
	if *c.metrics.enabled {
		cfg.Metrics = &metrics.Config{Interval: *c.metrics.interval, MaxSeriesPerApp: *c.metrics.maxSeries}
		if cfg.EMF, err = c.metrics.emfOptions(); err != nil {
			return nil, err
		}
	}
	if cfg.Dedup, err = openDedup(ctx, c.dedupTable); err != nil {
		return nil, err
	}
	fn, err := lambda.New(cfg)
	if err != nil {
		return nil, usagef("%v", err)
	}
	log.Info("drainpipe lambda ready", "drains", len(src.Drains().List()), "from_ssm", params != nil,
		"group", cwCfg.GroupTemplate, "metrics", cfg.Metrics != nil, "dedup", c.dedupTable != "")
	return fn, nil
}

// lambdaDrains edits the text form of the function's drains, in a value given
// on the command line or in the SSM parameter it names.
func lambdaDrains(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("lambda drains: want add, list or remove")
	}
	f := newFlags("lambda drains "+args[0], stderr)
	value := f.String("to", "", "the current DRAINPIPE_LAMBDA_DRAINS value to add to, or ssm:PARAMETER to edit that SecureString")
	f.StringVar(value, "from", "", "same as --to")
	url := f.string("lambda-url", "", "the function's URL (its stack's FunctionUrl output), base of the drain URL")
	f.StringVar(url, "url", *url, "same as --lambda-url")
	asJSON := f.Bool("json", false, "print JSON")
	pos, err := f.parse(args[1:])
	if err != nil {
		return err
	}
	st, err := openDrainsValue(ctx, *value)
	if err != nil {
		return err
	}
	switch args[0] {
	case "add":
		if len(pos) != 1 {
			return usagef("usage: drainpipe lambda drains add APP [--json] [--to \"$DRAINPIPE_LAMBDA_DRAINS\" | --to ssm:PARAMETER] [--url FUNCTION_URL, or DRAINPIPE_LAMBDA_URL]")
		}
		return lambdaAdd(ctx, st, pos[0], *url, *asJSON, stdout)
	case "list":
		return lambdaList(st, *asJSON, stdout)
	case "remove":
		if len(pos) != 1 {
			return usagef("usage: drainpipe lambda drains remove APP|ID --from \"$DRAINPIPE_LAMBDA_DRAINS\" | --from ssm:PARAMETER")
		}
		return lambdaRemove(ctx, st, pos[0], stdout)
	}
	return usagef("lambda drains: unknown command %q: want add, list or remove", args[0])
}

// drainsValue is a DRAINPIPE_LAMBDA_DRAINS value being edited.
type drainsValue struct {
	drains *lambda.Drains
	param  string // the SSM parameter holding them, or ""
	api    ssm.API
}

func openDrainsValue(ctx context.Context, value string) (*drainsValue, error) {
	v := &drainsValue{}
	name, isParam := strings.CutPrefix(strings.TrimSpace(value), lambda.SSMPrefix)
	text := value
	if isParam {
		if name == "" {
			return nil, usagef("ssm: needs a parameter name, as in ssm:/drainpipe/drains")
		}
		api, err := ssm.NewClient(ctx)
		if err != nil {
			return nil, err
		}
		v.param, v.api = name, api
		if text, err = ssm.Get(ctx, api, name); errors.Is(err, ssm.ErrNotFound) {
			text = ""
		} else if err != nil {
			return nil, err
		}
	}
	d, err := lambda.ParseDrains(text)
	if err != nil {
		return nil, fmt.Errorf("the drains to edit: %w", err)
	}
	v.drains = d
	return v, nil
}

// save writes the drains back to their parameter, if they have one, and
// returns the DRAINPIPE_LAMBDA_DRAINS line to set.
func (v *drainsValue) save(ctx context.Context) (string, error) {
	if v.param == "" {
		return "DRAINPIPE_LAMBDA_DRAINS=" + v.drains.String(), nil
	}
	if err := ssm.Put(ctx, v.api, v.param, v.drains.String()); err != nil {
		return "", err
	}
	return "DRAINPIPE_LAMBDA_DRAINS=" + lambda.SSMPrefix + v.param, nil
}

func lambdaAdd(ctx context.Context, v *drainsValue, app, base string, asJSON bool, stdout io.Writer) error {
	if base == "" {
		return usagef("the drain URL is built on the function's URL (its stack's FunctionUrl output): pass --url or set DRAINPIPE_LAMBDA_URL")
	}
	if _, err := drainpipe.DrainURL(base, "x", ""); err != nil {
		return usagef("--url: %v", err)
	}
	d, secret, err := v.drains.Add(app, time.Now())
	if err != nil {
		return usagef("%v", err)
	}
	u, _ := drainpipe.DrainURL(base, d.ID, secret)
	env, err := v.save(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(stdout, map[string]string{"app": app, "id": d.ID, "url": u, "env": env})
	}
	fmt.Fprintf(stdout, "drain %s for %s; its URL, shown once (the secret is kept nowhere):\n\n  %s\n\n", d.ID, app, u)
	fmt.Fprintf(stdout, "Give it to Heroku:\n\n  heroku drains:add '%s' -a %s\n\n", u, app)
	if v.param != "" {
		fmt.Fprintf(stdout, "Stored in the SSM parameter %s; the function reads it again at the drain's first request.\nThe function's configuration stays:\n\n", v.param)
	} else {
		fmt.Fprintf(stdout, "Set the function's configuration to (it holds no secret):\n\n")
	}
	fmt.Fprintln(stdout, env)
	return nil
}

func lambdaList(v *drainsValue, asJSON bool, stdout io.Writer) error {
	type row struct {
		App string `json:"app"`
		ID  string `json:"id"`
	}
	rows := []row{}
	for _, d := range v.drains.List() {
		rows = append(rows, row{d.App, d.ID})
	}
	if asJSON {
		return writeJSON(stdout, rows)
	}
	for _, r := range rows {
		fmt.Fprintf(stdout, "%s\t%s\n", r.App, r.ID)
	}
	return nil
}

func lambdaRemove(ctx context.Context, v *drainsValue, appOrID string, stdout io.Writer) error {
	gone := v.drains.Remove(appOrID)
	if len(gone) == 0 {
		return fmt.Errorf("no drain for %q", appOrID)
	}
	env, err := v.save(ctx)
	if err != nil {
		return err
	}
	for _, d := range gone {
		fmt.Fprintf(stdout, "removed drain %s of %s\n", d.ID, d.App)
	}
	if v.param != "" {
		fmt.Fprintf(stdout, "Stored in the SSM parameter %s; running instances drop it within %v.\n", v.param, lambda.DefaultMaxAge)
		return nil
	}
	fmt.Fprintf(stdout, "Set the function's configuration to:\n\n%s\n", env)
	return nil
}

// lambdaAppOf finds the app of drain id in DRAINPIPE_LAMBDA_DRAINS (or the SSM
// parameter it names), for `drainpipe verify` against the function.
func lambdaAppOf(ctx context.Context, id string) (app string, ok bool, err error) {
	value := os.Getenv("DRAINPIPE_LAMBDA_DRAINS")
	if value == "" {
		return "", false, nil
	}
	v, err := openDrainsValue(ctx, value)
	if err != nil {
		return "", false, fmt.Errorf("DRAINPIPE_LAMBDA_DRAINS: %w", err)
	}
	for _, d := range v.drains.List() {
		if d.ID == id {
			return d.App, true, nil
		}
	}
	return "", false, nil
}

// The CloudWatch sink is the function's CloudWatch.
var _ lambda.CloudWatch = (*cloudwatch.Sink)(nil)
