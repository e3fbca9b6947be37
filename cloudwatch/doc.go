// Package cloudwatch delivers journal entries to AWS CloudWatch Logs.
//
// The Sink is a durable consumer of the journal: Write returns only when every line
// has been accepted by CloudWatch, definitively rejected and counted, or parked on
// local disk because its log group fails with a permanent error. Groups and streams
// are created on demand when a put reports them missing; the sink never calls
// Describe* on the delivery path and sends no sequence tokens.
package cloudwatch
