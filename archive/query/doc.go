// Package query reads the archive: the queries behind `drainpipe search`, `tail`,
// `export` and `context`, the admin API's histogram and facets, and the newest
// rows of VictoriaLogs' query API, over VictoriaLogs' storage engine
// (github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage).
//
// # Lines in order
//
// The engine answers a query in blocks, from parallel workers, in no order. Lines
// in time order (newest first for a search page and tail, oldest first for export
// and `--oldest-first`) are read in time windows, from the end of the query's
// range that comes first, between the oldest and newest times the archive holds
// (from its parts' headers):
//
//   - Each window is counted first (`| stats count()`, which reads little more
//     than the times and what the filter needs). A window holding more than its
//     target is cut to about three quarters of it and counted again; an empty one
//     is skipped, and the next is four times as long; otherwise the next is sized
//     from the lines this one held.
//   - A walk that wants every line (export) reads each window whole
//     (`| fields` of a line's fields only, not the message's logfmt fields),
//     sorts it by (time, id) and hands it on, while the next window is read: two
//     windows of at most WindowRows lines in memory, whatever the number of lines.
//   - A walk that wants few lines (a page, a short tail, a context) targets a few
//     times the lines still wanted and lets the engine keep only those
//     (`| sort by (_time, id) limit k`), so a window is read once.
//
// A Position is a line's place in that order, (time, id): paging cursors are
// positions, and the lines at the cursor's time that are not past it are
// filtered out in the query itself, so a page neither repeats nor skips a line,
// even among lines with the same timestamp. A query cut short by its context
// (the engine stops without an error) is an error, never a short answer.
//
// # Formats
//
// Lines are written straight from the engine's columns to the wire: as JSON
// objects (api.AppendJSON) or as `heroku logs` text (api.AppendText), by the
// engine's workers, without building a value per line.
package query
