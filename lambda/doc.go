// Package lambda runs drainpipe as an AWS Lambda function behind a Function URL
// (or an API Gateway HTTP API): each invocation is one drain request, handled by
// the same receiver as the server's POST /logs (package httpd: authentication,
// gzip, logplex and log-shuttle parsing, the same answers), whose journal here
// delivers the batch to CloudWatch Logs before the function answers.
//
// # What a 2xx means
//
// A 2xx answers a batch only once CloudWatch accepted every line of it (or
// refused a line for good: too old, too new, past retention, which is counted
// and logged whole in the function's own log, its only copy). A batch not
// delivered within Config.Timeout (4 s: logplex waits 5 s for an answer) or
// the invocation's deadline less Config.Margin is answered 503, which logplex
// retries; so is a log group that fails for good (access denied, a KMS key):
// with no disk that outlives an invocation there is nowhere to park its lines,
// and a retry is their best chance. Nothing the function starts outlives the
// invocation that started it: a Lambda may be frozen the moment it answers.
//
// # Retries
//
// A batch answered 503 after part of it reached CloudWatch, or whose 2xx was
// lost on its way back, is sent again by logplex and delivered again: in this
// mode a line can be stored twice. Config.Dedup (a DynamoDB table, package
// dynamodb) recognises a batch whose delivery finished, by its drain and
// Logplex-Frame-Id, and answers its retries without delivering them; it cannot
// help a batch cut short by the deadline, since only CloudWatch knows how much
// of it arrived.
//
// # Metrics
//
// With Config.Metrics, the metrics in each batch's lines (package metrics) are
// sent as Embedded Metric Format documents to the app's group, stream
// drainpipe-metrics, within the same invocation, after its lines. Each batch
// makes its own intervals: CloudWatch adds up counts and sums across them,
// while percentiles are per batch.
//
// # Drains
//
// Drains (ids, secret hashes and apps, never a secret) come from
// DRAINPIPE_LAMBDA_DRAINS or the SSM Parameter Store SecureString it names; see
// Drains and DrainSource.
package lambda
