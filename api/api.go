// Package api is drainpipe's admin API on the wire: the JSON shapes the server
// sends, and the client the CLI uses. Every request carries the admin token as
// `Authorization: Bearer <token>`.
//
//	POST   /api/drains                {"app": "myapp"}   add a drain (201), or the app's existing one (200)
//	GET    /api/drains                                    list drains
//	GET    /api/drains/{app}                              one drain
//	DELETE /api/drains/{app}                              remove a drain: its secret stops working at once
//	PUT    /api/drains/{app}/heroku   {"id","token"}      record the drain's registration on Heroku
//	GET    /api/apps/{app}/tail?n=100                     the newest n lines, oldest first
//	GET    /api/apps/{app}/lines?after=ID&wait=25s        lines after ID, oldest first, waiting for some
//	GET    /api/apps/{app}/search?q=&since=&until=&limit=&before=ID   full-text search, newest first
//	GET    /api/apps/{app}/metrics?since=1h&until=&name=PREFIX      metrics merged over the window
//
// Errors are JSON {"error": "one clear sentence"} with a 4xx or 5xx status.
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
	// archive's row limit (512 KiB) was stored in, in order; empty otherwise.
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
