// Package alert turns saved searches and log metrics into notifications: rules,
// their evaluation over the archive and the metrics history, the states of their
// groups (pending, firing, resolved), and at-least-once delivery of what they
// announce. Destinations (Slack, PagerDuty, webhooks, e-mail) are in alert/notify,
// the key-value store of rules and states in alert/jskv.
//
// # The evaluation rule
//
// A rule is evaluated over windows of line time, [start, end), aligned on multiples
// of its window length: the lines `drainpipe search APP QUERY --since start --until
// end` shows, no more, no fewer. A window is evaluated once the source's watermark
// (a time before which every received line is applied and searchable) has reached
// end + grace (Config.Grace, 30 s by default): every line received by then counts,
// so an archive that lags makes the evaluation wait instead of seeing a false
// absence. A line whose time falls in a window but that arrives more than the grace
// after the window's end is not counted by that window (it is in the search
// afterwards); Heroku stamps lines when logplex takes them and delivers within
// seconds, so the grace covers logplex's retries.
//
// Each window is evaluated once, in order, and its whole outcome (the rule's
// position, the states of its groups, the notifications it made, its history) is
// stored in one key-value entry before the next window is looked at. After a crash
// the evaluation resumes at the first window not stored: none is missed, none
// counted twice. Notifications wait in that entry until a destination takes them,
// so they are delivered at least once, resolutions included, across restarts.
//
// # Groups and states
//
// A group (one per value of the rule's group_by fields, or one for the whole rule)
// is ok, pending (breaching for fewer windows than `for`), firing (breached `for`
// windows in a row) or resolved (fired, then its condition with the recovery
// threshold in place of the threshold was false for a window). Firing and resolved
// are notified; renotify repeats the firing notification while it lasts.
package alert
