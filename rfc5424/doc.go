// Package rfc5424 reads one syslog message in the RFC 5424 form that Heroku's drains
// carry, "<PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [STRUCTURED-DATA] MSG",
// into a drainpipe.Record: the HTTPS logplex receiver (package logplex, which cuts a
// body into frames) and the syslog listener (package syslog, which cuts a stream)
// both read their frames' messages here.
//
// The header is read strictly, each field one or more printable ASCII characters,
// and without allocating: the record's strings are slices of the message. Timestamps
// are RFC 3339 (read without time.Parse, which allocates). A message whose header
// does not parse is never dropped: Malformed keeps it whole, flagged. Invalid UTF-8 is
// never dropped either: ValidUTF8 writes each invalid byte as the four characters
// `\xNN`, so a person can still read the line.
package rfc5424
