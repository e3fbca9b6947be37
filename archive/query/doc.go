// Package query reads the archive: the queries behind `drainpipe search`, `tail`,
// `export` and `context`, the admin API's histogram and facets, over VictoriaLogs'
// storage engine (github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage).
//
// # Lines in order
//
// The engine answers a query in blocks, from parallel workers, in no order. Lines
// in time order (newest first for a search page and tail, oldest first for export
// and `--oldest-first`) are read in time windows: each window's query is capped at
// WindowRows lines (`| limit`), its lines sorted by (time, id) and handed on, and
// the next window starts where it ended. A window that holds more than the cap is
// cut into four and read again; one that holds few lines doubles the next. So
// memory stays at one window whatever the number of lines (an export of millions
// streams in constant memory), and a page of the newest lines reads only the
// newest part of the archive. Each window asks only for the fields a line shows
// (`| fields`), not the message's logfmt fields.
//
// A Position is a line's place in that order, (time, id): paging cursors are
// positions, so a page neither repeats nor skips a line, even among lines with
// the same timestamp.
//
// # Formats
//
// Lines are written straight from the engine's columns to the wire: as JSON
// objects (api.AppendJSON) or as `heroku logs` text (api.AppendText), without
// building a value per line.
package query
