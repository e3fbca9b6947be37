// Package api is drainpipe's admin API on the wire: the JSON shapes the server
// sends, and the client the CLI uses. Every request carries the admin token as
// `Authorization: Bearer <token>`, or as the password of Basic auth (any user
// name: what Grafana's data sources and vlogscli send).
//
//	POST   /api/drains                {"app": "myapp"}   add a drain (201), or the app's existing one (200)
//	GET    /api/drains                                    list drains
//	GET    /api/drains/{app}                              one drain
//	DELETE /api/drains/{app}                              remove a drain: its secret stops working at once
//	PUT    /api/drains/{app}/heroku   {"id","token"}      record the drain's registration on Heroku
//	GET    /api/apps/{app}/metrics?since=1h&until=&name=PREFIX      metrics merged over the window
//	GET    /api/apps/{app}/metrics/range?since=1h&until=&step=30s&name=PREFIX&merge=sources   metrics step by step (graphs)
//	.../api/alerts...                                   alert rules, states, history, backtests: see alerts.go
//
// # Lines
//
// The line endpoints take a search (type Search): q, what the user typed
// (LogsQL, with Heroku's words: web.1, status=503, /slow; see package logsql),
// source (app, heroku), dyno (web.1, or web for every web dyno), and since and
// until (see ParseTime: 24h, 7d, 2026-11-28, RFC 3339, today, yesterday; a day
// counts whole). A line is shown as type Line; the order of lines is by time,
// then by id.
//
//	GET /api/apps/{app}/search?q=&source=&dyno=&since=&until=&limit=100&order=newest&cursor=
//	    A page of lines, newest first (order=oldest: oldest first), at most limit
//	    (1 to 10,000): {"lines": [...], "next": "CURSOR"}. next, present while more
//	    lines follow, is the cursor of the next page: pages neither repeat nor
//	    skip a line, also among lines with the same time. Filters only: pipes
//	    (| stats ...) are the LogsQL API's.
//	GET /api/apps/{app}/tail?n=100&q=&source=&dyno=&since=&until=
//	    The newest n lines (any n), oldest first, streamed: {"lines": [...],
//	    "after": ID}. after is the newest line stored when the tail began, where
//	    following goes on from.
//	GET /api/apps/{app}/lines?after=ID&wait=25s&q=&source=&dyno=
//	    tail --follow: the lines stored after the line with id after, by id (the
//	    order they were stored in), that match, waiting up to wait (at most 5m)
//	    for the first: {"lines": [...], "after": ID}, after being where to go on
//	    from (past lines read that did not match).
//	GET /api/apps/{app}/export?q=&source=&dyno=&since=&until=&format=json
//	    Every matching line, oldest first, streamed without a cap and in constant
//	    memory: JSON objects one a line (application/x-ndjson), or with
//	    format=text as `heroku logs` prints them. An export that fails midway is
//	    cut off (the chunked answer does not end), never ended as if whole.
//	GET /api/lines/{id}
//	    One line by its id: a permalink.
//	GET /api/lines/{id}/context?before=20&after=20
//	    The line and up to before and after lines around it in its app (at most
//	    10,000 each): {"before": [...], "line": {...}, "after": [...]}, what
//	    Papertrail's "centered on" link shows. 404 when the line is not (or no
//	    longer) stored.
//
// Streamed answers (tail, export) send their status with their first 64 KiB;
// a client that stops reading for a minute is cut off. The other answers take
// at most 30 s: past that, 503 and a sentence saying to narrow the search.
//
// # Summaries
//
// The histogram and facets take the same search; without since they cover the
// last 24 hours (a whole archive is a long read for a summary).
//
//	GET /api/apps/{app}/hits?q=&source=&dyno=&since=&until=&step=1m&by=status&top=10
//	    Lines per interval (type Hits): step (default: a round step giving at
//	    most ~120 intervals; at most 10,000 intervals), in one series, or one per
//	    value of the field by (status gives counts by status, dyno by dyno ...):
//	    the top values (1 to 100) and the others summed in a series marked
//	    "other". Every series has a count for every interval, zeros included.
//	GET /api/apps/{app}/facets?q=&source=&dyno=&since=&until=&field=status&field=dyno&limit=10
//	    The most frequent values of each field (type Facets; by default source,
//	    dyno, status, code, method and path; at most 20 fields, limit 1 to 1000
//	    values each), with how many lines have each and how many have others.
//
// # The LogsQL API
//
// VictoriaLogs' own query API, so that Grafana's VictoriaLogs data source,
// vlogscli and scripts written for VictoriaLogs work against drainpipe unchanged:
// the same paths, parameters (GET or a POSTed form) and answers, in drainpipe's
// one tenant (0:0; an AccountID or ProjectID header naming another is refused).
// Queries are plain LogsQL here, without Heroku's words.
//
//	/select/logsql/query                 rows as JSON lines (format=csv: CSV); limit and offset give the newest rows first
//	/select/logsql/hits                  rows per step, by field values (fields_limit)
//	/select/logsql/facets                the most frequent values of every field
//	/select/logsql/field_names           fields, with the rows that have each
//	/select/logsql/field_values          values of a field
//	/select/logsql/stream_field_names, /stream_field_values, /streams, /stream_ids
//	/select/logsql/stats_query           a `| stats` query as a Prometheus vector
//	/select/logsql/stats_query_range     the same per step, as a Prometheus matrix
//	/select/logsql/query_time_range      the time range a query selects
//	/select/logsql/tail                  live tailing: new rows as they come
//
// Common parameters: query, start, end (exclusive), time, extra_filters,
// extra_stream_filters, ignore_pipes, hidden_fields_filters, timeout. As in
// VictoriaLogs, at most 4 queries run at once (others wait up to 10 s, then
// 503), each for at most 30 s (timeout shortens it); a query is at most 16 KiB;
// live tails have neither limit. Errors are VictoriaLogs': 400 and a sentence
// as text, or Prometheus' JSON error (422) from the stats endpoints.
//
// Errors of the /api endpoints are JSON {"error": "one clear sentence"} with a
// 4xx or 5xx status.
package api

import (
	"time"

	"github.com/drainpipe/drainpipe"
)

// Drain is a drain as the admin API shows it.
type Drain struct {
	ID  string `json:"id"`
	App string `json:"app"`
	// URL is the drain URL to give Heroku. It holds the secret only in the answer
	// that created the drain: the server keeps no copy of the secret.
	URL     string    `json:"url"`
	Created time.Time `json:"created"`
	// Existing is set when adding an app that already had this drain.
	Existing bool `json:"existing,omitempty"`
	// Lines and Malformed count the lines stored in the archive.
	Lines     int64 `json:"lines"`
	Malformed int64 `json:"malformed"`
	// LastLine is the time of the newest line stored, if any.
	LastLine *time.Time `json:"last_line,omitempty"`
	// CloudWatchGroup overrides the CloudWatch log group template for this drain.
	CloudWatchGroup string `json:"cloudwatch_group,omitempty"`
	// Heroku is the drain's registration on Heroku, when drainpipe made it (or was told its token).
	Heroku *drainpipe.HerokuDrain `json:"heroku,omitempty"`
	// HerokuRegistered says whether Heroku still has the registration; set only by
	// `drains list --check`, which asks Heroku.
	HerokuRegistered *bool `json:"heroku_registered,omitempty"`
	// DroppedByHeroku counts the lines Heroku (logplex, log-shuttle) reported it
	// dropped before they reached drainpipe: L10/L12/L13 lines and drop headers.
	DroppedByHeroku int64 `json:"dropped_by_heroku"`
	// Sinks holds each sink's status for this drain's app ("ok", "parked: ..."),
	// for the sinks that report one and have seen the app since they started.
	Sinks map[string]string `json:"sinks,omitempty"`
}

// AddDrainRequest is the body of POST /api/drains.
type AddDrainRequest struct {
	App string `json:"app"`
	// CloudWatchGroup, when set, overrides the log group template for this drain
	// (also on an existing drain).
	CloudWatchGroup string `json:"cloudwatch_group,omitempty"`
}

// Line is one stored log line.
type Line struct {
	ID             int64     `json:"id"`
	Time           time.Time `json:"time"`
	Received       time.Time `json:"received"`
	Drain          string    `json:"drain"`
	App            string    `json:"app"`
	Source         string    `json:"source"`
	Dyno           string    `json:"dyno"`
	Host           string    `json:"host,omitempty"`
	Priority       int       `json:"priority"`
	MsgID          string    `json:"msgid,omitempty"`
	StructuredData string    `json:"structured_data,omitempty"`
	Message        string    `json:"message"`
	Malformed      bool      `json:"malformed"`
	// Part is "k/n" on the k-th of the n lines a message longer than the
	// archive's row limit (512 KiB) was stored in: they come one after the
	// other, in order. Empty otherwise.
	Part string `json:"part,omitempty"`
}

// Lines is the answer of the tail and lines endpoints.
type Lines struct {
	Lines []Line `json:"lines"`
	// After is, in an answer of the lines endpoint, the id to follow from next:
	// the last line read, which may be past the last line that matched.
	After int64 `json:"after,omitempty"`
}

// Error is the body of every error answer.
type Error struct {
	Error string `json:"error"`
}
