// Command drainpipe receives Heroku log drains, keeps every line, and lets you
// search and tail them. `drainpipe serve` runs the server; the other commands are
// clients of its admin API. Run `drainpipe help` for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `drainpipe keeps every line of your Heroku apps' logs.

Usage:
  drainpipe serve [flags]                      run the server (embedded journal and archive)
  drainpipe drains add APP [--json]            add a drain; prints the URL to give Heroku
  drainpipe drains add APP --fir               the same for a Fir app: prints its heroku telemetry:add command
  drainpipe drains list [--json]               list drains with their line counts
  drainpipe drains remove APP                  remove a drain (its URL stops working at once)
  drainpipe tail APP [QUERY] [-n N] [--follow] [--source S] [--dyno D] [--since T] [--until T] [--ids] [--json]
  drainpipe search APP [QUERY] [--since T] [--until T] [--source S] [--dyno D] [--limit N] [--oldest-first] [--ids] [--json]
  drainpipe export APP [QUERY] [--since T] [--until T] [--source S] [--dyno D] [--json] > FILE
                                               every matching line, oldest first, streamed (progress on a terminal)
  drainpipe context ID [-B 20] [-A 20] [--json]   a line and the lines around it in its app
  drainpipe metrics APP [--since 1h] [--name PREFIX] [--json]   router, dyno and l2met metrics from the logs
  drainpipe verify DRAIN_URL [--count N] [--concurrency C] [--wait D] [--from archive|cloudwatch] [--json]
                                               loss audit: send begin/end pairs, read them back, list what is missing
  drainpipe bench --url DRAIN_URL [--duration D] [--connections N] [--batch-lines N] [--line-bytes N] [--otlp] [--json]
  drainpipe ui-user NAME                       print a --ui-users line for NAME (asks for the password)
  drainpipe alerts add|list|remove|mute|test|history|presets   alert rules: run 'drainpipe alerts' for their flags
  drainpipe lambda package [--arch arm64|x86_64]  the AWS Lambda zip and deploy/lambda/template.yaml
  drainpipe lambda drains add APP [--json] [--to "$DRAINPIPE_LAMBDA_DRAINS" | --to ssm:PARAM] [--url FUNCTION_URL]
  drainpipe lambda drains list [--json] | remove APP|ID  --from "$DRAINPIPE_LAMBDA_DRAINS" | ssm:PARAM
                                               a Lambda's drains (ids, secret hashes, apps)
  drainpipe lambda run                         be the Lambda function (what its bootstrap runs,
                                               as does a bare drainpipe when AWS_LAMBDA_RUNTIME_API is set)
  drainpipe --version                          the module version and commit this binary was built from

QUERY is LogsQL, and the words Heroku users type work as they are: web.1,
status=503, code=H12, /slow, "Request timeout", 'H12 OR R14', app[web.1].
T is 24h or 7d (ago), 2026-11-28 (a whole UTC day), 2026-11-28T10:00:00Z,
today or yesterday. --source is app or heroku; --dyno web.1, or web for every
web dyno.

The server's settings have environment variables: --data is DRAINPIPE_DATA,
--server is DRAINPIPE_SERVER, and so on. Run 'drainpipe COMMAND -h' for a
command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one of drainpipe's commands: it gets the arguments after its name.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// commands are drainpipe's commands by name.
var commands = map[string]command{
	"serve":   serve,
	"drains":  drainsCmd,
	"tail":    tail,
	"search":  search,
	"export":  exportCmd,
	"context": contextCmd,
	"metrics": metricsCmd,
	"verify":  verifyCmd,
	"bench":   benchCmd,
	"ui-user": func(_ context.Context, args []string, stdout, stderr io.Writer) error {
		return uiUser(args, os.Stdin, stdout, stderr)
	},
	"alerts": alertsCmd,
	"lambda": lambdaCmd,
}

// run executes one command and returns the process's exit code: 0 on success,
// 1 when the command failed, 2 for a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if inLambda(args) {
		args = []string{"lambda", "run"}
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, usage)
		return 0
	}
	switch args[0] {
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, version())
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "drainpipe: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	var u usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &u):
		fmt.Fprintf(stderr, "drainpipe: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "drainpipe: %v\n", err)
		return 1
	}
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }
