// Package cloudwatch delivers journal entries to AWS CloudWatch Logs.
//
// The Sink is a durable consumer of the journal: Write returns only when every line
// has been accepted by CloudWatch, refused for good and counted, or parked on local
// disk because its log group fails with a permanent error. Transient faults
// (throttling, 5xx, timeouts, network) are retried with capped, jittered backoff for
// as long as Write's context lasts.
//
// Lines go to the group and stream their templates name (by default one group per
// app, "/heroku/{app}", and one stream per UTC day of the line's own time). Groups
// and streams are created when a put reports them missing; the sink never calls
// Describe* and sends no sequence tokens. Batches keep within every PutLogEvents
// limit, and a line longer than an event is split into consecutive events.
//
// Lines the service refuses (older than 14 days or the group's retention, more than
// 2 hours ahead) are counted in drainpipe_sink_rejected_lines_total and logged; the
// local archive still holds them.
//
// A group failing with a permanent error (AccessDenied, a bad KMS key, revoked
// credentials, LimitExceededException when the account is at its log-group quota
// and the group cannot be created) is parked: its lines are appended, in their order, to an fsynced
// file in Config.Dir, and retried in the background until the group works again,
// while the other groups keep flowing. A restart resumes the parks it finds.
//
// With Config.Inline (AWS Lambda, where a process may be frozen as soon as a call
// returns) the sink runs nothing in the background and keeps nothing on disk: a
// failing group is an error of the Write, retention is set by the Write that
// reaches a group, and a refused line is logged whole.
package cloudwatch
