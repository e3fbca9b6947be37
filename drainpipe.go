// Package drainpipe holds the vocabulary shared by every part of drainpipe: the log
// records that arrive on Heroku drains, the batches they arrive in, the drains
// themselves, and the errors the parts use to talk to each other.
//
// The packages below it each speak one protocol or wrap one dependency (logplex,
// rfc5424, syslog, journal, drains, archive, cloudwatch, metrics, herokulog,
// heroku); cmd/drainpipe wires them. docs/architecture.md has the package map.
package drainpipe

import (
	"context"
	"errors"
	"math"
	"time"
)

// Record is one log line as Heroku sent it, with the fields of its syslog header.
// Field names follow Heroku's vocabulary: `heroku logs --source app --dyno web.1`.
type Record struct {
	// Drain is the id of the drain the line arrived on.
	Drain string
	// App is the Heroku app the drain belongs to.
	App string
	// Time is the line's own timestamp, or Received when the line had none that parsed
	// or had one outside KnownTime's range.
	Time time.Time
	// Received is when drainpipe accepted the batch that held the line.
	Received time.Time
	// Priority is the syslog PRI (facility*8 + severity), or -1 when the frame had none.
	Priority int
	// Host is the syslog HOSTNAME: "host" from logplex, the drain token from syslog drains.
	Host string
	// Source is the syslog APP-NAME: "app" for the app's own output, "heroku" for the platform.
	Source string
	// Dyno is the syslog PROCID: "web.1", "router", "api", "heroku-postgres" ...
	Dyno string
	// MsgID is the syslog MSGID, empty when the sender sent "-" or none.
	MsgID string
	// StructuredData is the syslog STRUCTURED-DATA as sent, empty when "-" or absent.
	StructuredData string
	// Message is the line itself, without its trailing newline. For a malformed
	// record it is the whole raw frame, with invalid UTF-8 escaped.
	Message string
	// Malformed reports that the frame did not parse as syslog; nothing was dropped.
	Malformed bool
	// Attrs are fields the sender gave explicitly, beside the message: OpenTelemetry
	// log and resource attributes, trace and span ids. Fields that drainpipe reads out
	// of the message itself (logfmt key=value pairs) are not kept here: the archive
	// derives them. Nil for logplex and syslog lines.
	Attrs []Attr
}

// Attr is one named field of a record, as its sender gave it.
type Attr struct {
	// Key is the field's name, e.g. "trace_id" or "http.route".
	Key string
	// Value is the field's value as text (structured values as JSON).
	Value string
}

// Batch is what one request (or one run of a syslog connection) delivered: the unit
// that is appended to the journal and acknowledged to the sender.
type Batch struct {
	// Drain is the id of the drain that sent the batch.
	Drain string
	// App is the app of that drain.
	App string
	// Key identifies a retried batch (Logplex-Frame-Id, or X-Request-Id from
	// log-shuttle); empty when the sender gave none.
	Key string
	// Received is when the batch was accepted.
	Received time.Time
	// Dropped is how many lines the sender said it dropped before this batch
	// (log-shuttle's Logplex-Drop-Count and Logplex-Lost-Count headers): lines lost
	// upstream, counted so that "no lost lines" can include Heroku's own losses.
	Dropped int
	// Records are the batch's lines in the order they arrived.
	Records []Record
}

// Entry is one journal message: the batches committed to disk together, at their
// place in the journal.
type Entry struct {
	// Journal identifies the journal the entry comes from. Sequence numbers start
	// again in a new journal (its directory was lost, or the deployment moved to or
	// from an external NATS server), so a sink ties the position it stores to this
	// identity: entries of a journal it has not seen are new, whatever their Seq.
	Journal string
	// Seq is the entry's journal sequence number; it grows with every entry, so a sink
	// that stores the last Seq it applied can skip entries redelivered after a crash.
	Seq uint64
	// Batches are the batches committed together in this entry.
	Batches []Batch
}

// Sink is a store that the journal delivers to: each sink is a durable consumer
// with its own cursor, so a slow or broken sink delays only itself.
type Sink interface {
	// Name is the sink's durable consumer name ("archive", "cloudwatch").
	Name() string
	// Write stores entries, given in journal order. It returns nil once every record is
	// stored, or definitively rejected and recorded as such; the journal then forgets
	// the entries for this sink. An error means none of them may be taken as delivered:
	// the journal delivers the same entries again later. Write handles its own retries of
	// transient faults; it returns early only when ctx ends.
	Write(ctx context.Context, entries []Entry) error
}

// Drain is a configured log drain: one app's door into drainpipe.
type Drain struct {
	// ID is the drain's public id, also the user name of its drain URL.
	ID string `json:"id"`
	// App is the Heroku app whose logs arrive on this drain.
	App string `json:"app"`
	// SecretHash is the SHA-256 of the drain's secret; the secret itself is never stored.
	SecretHash []byte `json:"secret_hash"`
	// Created is when the drain was added.
	Created time.Time `json:"created"`
	// CloudWatchGroup overrides the CloudWatch log group template for this drain.
	CloudWatchGroup string `json:"cloudwatch_group,omitempty"`
	// Heroku is the drain's registration on Heroku's side, when it was made by drainpipe.
	Heroku *HerokuDrain `json:"heroku,omitempty"`
}

// HerokuDrain is a log drain as Heroku's Platform API knows it.
type HerokuDrain struct {
	// ID is Heroku's id of the drain (a UUID).
	ID string `json:"id"`
	// Token is the drain token Heroku puts in syslog HOSTNAME and Logplex-Drain-Token ("d.<uuid>").
	Token string `json:"token"`
}

// Errors shared across packages, to be tested with errors.Is.
var (
	// ErrNotFound means the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the change asked for clashes with what is stored (a Heroku
	// drain token that another drain holds).
	ErrConflict = errors.New("conflict")
	// ErrJournalFull means the journal has reached its disk cap; senders should retry later.
	ErrJournalFull = errors.New("journal full")
	// ErrUnavailable means the journal cannot take writes now; senders should retry later.
	ErrUnavailable = errors.New("journal unavailable")
)

// FirstTime and LastTime are the first and last times a record can carry: what
// int64 nanoseconds since the epoch can count, 1677-09-21T00:12:43.145224192Z to
// 2262-04-11T23:47:16.854775807Z.
var (
	FirstTime = time.Unix(0, math.MinInt64).UTC()
	LastTime  = time.Unix(0, math.MaxInt64).UTC()
)

// KnownTime reports whether t is a time a record can carry (journal, archive and
// CloudWatch count in nanoseconds or milliseconds since the epoch in an int64).
// The zero Time, and any time before 1678 or after 2262, is not: a parser treats
// such a timestamp as none, and the line as received at its arrival, rather than
// let it wrap around to another date.
func KnownTime(t time.Time) bool {
	return !t.Before(FirstTime) && !t.After(LastTime)
}
