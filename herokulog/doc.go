// Package herokulog reads Heroku's own words in a log stream: the reports of lines
// Heroku lost before they reached the drain. It is Heroku's log vocabulary, not its
// Platform API (that is package heroku), so the archive, the metrics and the
// receiver read loss reports without depending on an API client.
//
// # Loss reports
//
// Heroku never retries lines it dropped; it says so afterwards, in two ways:
//
//   - In-band, as a line of its own (LossReport): logplex's "Error L10 (output
//     buffer overflow): N messages dropped since T." and its newer "drain 'd.…'
//     dropped N messages since T", a syslog drain's "Logplex drain buffer
//     overflowed. N messages lost since T.", and log-shuttle's "Error L12: N
//     messages dropped since T" and "Error L13: N messages lost since T".
//   - Out of band, in the headers of the request (DropHeaders): log-shuttle's
//     Logplex-Drop-Count and Logplex-Lost-Count.
//
// # Counting one loss once
//
// log-shuttle reports the same loss both ways, in the same request: the batch that
// follows a loss starts with its L12 (or L13) line and carries Logplex-Drop-Count
// (or Logplex-Lost-Count) with the same N. logplex reports only in-band. So a
// batch's loss is the larger of the two, never their sum (BatchLoss):
//
//	loss(batch) = max(drop headers, sum of the batch's report lines)
//
// A sender that reports only one way is counted in full, and one that reports both
// is counted once. The rule undercounts only a sender that reported two different
// losses in one request, one by header and the other by line, which no known
// sender does.
package herokulog
