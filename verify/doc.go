// Package verify is the loss audit behind `drainpipe verify`: it sends numbered
// begin/end pairs of log lines to a drain URL the way Heroku's logplex does, reads
// them back from where they should have landed (drainpipe's archive through the
// admin API, or CloudWatch Logs), and reports every pair that did not arrive whole,
// every pair that arrived more than once, and how long delivery took.
//
// It is the proof some of our users once built by hand: many concurrent invocations
// that each log a begin and an end line, then a list of every invocation whose pair
// is incomplete. A shipper that drops the last line of some requests, a buffer that
// rolls over, or a store that silently rejects lines all show up as missing ids.
//
// # Lines
//
// Each pair is two lines, "drainpipe-verify <run> <id> begin" and "... end", where
// run is a random id unique to the run (so runs never mix and the stores can search
// for it) and id counts from 1. The begin and end lines travel in separate batches,
// the end one sent after the begin one is answered, as an invocation writes them:
// a loss that takes one line but not the other (the last line of an invocation, a
// batch lost between two others) then shows as an incomplete pair, where lines
// sharing one batch would only ever live or die together.
//
// # Reading back
//
// A Reader returns the run's lines a store holds: ArchiveReader searches
// drainpipe's archive through the admin API, CloudWatchReader searches a log
// group with FilterLogEvents, CloudWatchStreamReader reads named streams with
// GetLogEvents. Run reads from the start, while the pairs are being sent, and asks
// again every 250 ms until every pair is found or Config.Wait has passed since the
// last pair was sent.
//
// # Latency
//
// A pair's delivery latency runs from sending its end line to the end of the first
// read that returned both its lines: the moment a user could read it, within one poll
// (250 ms) and one read. A store's own times (the archive's receive time, CloudWatch's
// ingestion time) are not used: they say when the store took the line in, which for
// the archive is before the journal and the sink have even seen it.
//
// # Outcomes
//
// Every pair sent ends in exactly one of three counts: found (both lines read
// back), missing (the drain acknowledged both batches but a line never showed up:
// a silent loss) or unacknowledged (a batch never got a 2xx after logplex's three
// tries and a line never showed up: a loss the sender knew about). Duplicates count
// the pairs with a line read back more than once. Report.OK, the audit's verdict
// (and the command's exit status), holds only when every pair sent was found.
//
// A run that cannot reach its verdict still reports what it knew, with
// Report.Unfinished saying why: a drain that no longer answers (GiveUpTries
// tries in a row, or GiveUpAfter of tries, without an answer) is given up on,
// ErrUnreachable, and what was sent is read back; a read-back that fails for
// good, or a ctx that ends, stops the run at once.
package verify
