// Package logsql turns what a user types into a LogsQL query, the query language
// of drainpipe's archive (VictoriaLogs' engine; see
// https://docs.victoriametrics.com/victorialogs/logsql/).
//
// LogsQL is the language: a query that is valid LogsQL and means the same thing
// to a Heroku user passes through unchanged. On top of it, the words Heroku users
// type work without quoting. Translate rewrites each whitespace-separated term of
// the filter part (before the first `|`) on its own, keeping `OR`, `AND`, `NOT`,
// `-`, `!`, parentheses and quoted phrases as they are:
//
//	typed                   LogsQL                                   why
//	web.1                   (dyno:="web.1" OR "web.1")               the dyno's own lines, and lines naming it (router's dyno=web.1)
//	router                  (dyno:="router" OR "router")             heroku[router] lines, and the word
//	app[web.1]              (source:="app" dyno:="web.1")            as `heroku logs` prints it; a trailing ':' is ignored
//	status=503              (status:="503" OR "status=503")          the logfmt field, or the text when the field is not stored
//	code=H12                (code:="H12" OR "code=H12")
//	status=5xx              status:range[500, 600)                   a class of statuses
//	status>=500             status:>="500"                           also >, <, <= (numbers, durations such as 30ms, sizes)
//	status!=200             NOT (status:="200" OR "status=200")
//	path=/api*              (path:="/api"* OR "path=/api"*)          a value ending in * is a prefix
//	service=*               service:*                                lines that have the field
//	/slow                   /slow                                    LogsQL's phrase: the text, at word boundaries
//	"Request timeout"       "Request timeout"                        a quoted phrase, case-sensitive
//	H12 OR R14              H12 OR R14
//	user@example.com        "user@example.com"                       text LogsQL would refuse is searched as a phrase
//	https://x.io/a          "https://x.io/a"                         so is a URL, a time (10:00:00) or an address (127.0.0.1:80)
//	sample#memory_rss=12MB  ("sample#memory_rss":="12MB" OR ...)     l2met keys; an unquoted # is text, not a LogsQL comment
//
// Everything else that parses as LogsQL on its own (`status:503`, `_time:1h`,
// `{app="x"}`, `i(timeout)`, `in(H12,H13)`, `error*`, `path:~"^/api"`) is kept,
// and text that does not is searched as a quoted phrase. The pipes after the
// first `|` (`| stats by (status) count()`) are LogsQL and pass unchanged. The
// result always parses as LogsQL: a query that cannot be made to (an unterminated
// quote, a parenthesis that does not close, an operator with nothing after it)
// is an error wrapping ErrBadQuery, in a sentence for the user.
//
// Words match case-sensitively, as in LogsQL (`H12`, not `h12`); `i(timeout)`
// matches any case. Quote a term to search its text only: `"web.1"`.
//
// The package also builds the filters behind the command-line flags (Source,
// Dyno, App, TimeRange), so that the CLI, the admin API and the web UI narrow a
// query the same way.
package logsql
