// Package archive is drainpipe's local archive: a drainpipe.Sink that stores
// every log line in VictoriaLogs' storage engine (the library
// github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage, run inside drainpipe),
// and the queries behind tail, search, follow and drains list.
//
// # Files
//
// Everything is under Config.Dir (<data>/archive):
//
//	engine/      VictoriaLogs' storage: one partition per UTC day of _time
//	             (engine/partitions/YYYYMMDD), each a stream index and columnar,
//	             compressed parts with bloom filters
//	state.json   what drainpipe keeps beside it: the journal position applied
//	             (per journal identity), the last line id, per-app counts, a
//	             write in progress, a day being deleted, the import's progress
//	fields.json  the names of message and attribute fields each app has used
//
// state.json and fields.json are replaced atomically (temporary file, fsync,
// rename, fsync of the directory). Files are created with the process umask
// (drainpipe serve sets 077: files 0600, directories 0700); Open makes the
// directory 0700 and warns when the directory above it is open to others.
//
// # What a line is stored with
//
// Each record is one row (a message over 512 KiB is several, see FieldPart):
//
//	_time            the line's own time; when VictoriaLogs would refuse it (older
//	                 than the retention, more than a day ahead, or none), the time
//	                 it was received, or now, and the line's own time goes in "time"
//	_msg             the message, whole (for a malformed frame: the raw frame)
//	app, source      the stream fields (few values: never request ids)
//	drain, host, dyno, msgid, structured_data   the syslog header, as received
//	priority         the syslog PRI (absent when the frame had none), and
//	severity         its name: emerg alert crit err warning notice info debug
//	received         when drainpipe accepted the batch, nanoseconds since the epoch
//	malformed        "1" for a frame that did not parse as syslog (absent otherwise)
//	time             the line's own time (RFC 3339, or "none"), only when _time is not it
//	id               the line's id (see below)
//	part             "k/n" on each of the n rows of a message over 512 KiB
//	attrs            the keys of the record's explicit attributes (JSON array),
//	                 each stored as a field of its own name (OpenTelemetry's
//	                 trace_id, service.name, ...)
//	attrs.rest       the attributes that could not be fields of their own
//	                 (past the caps below, a name taken or not valid), as a JSON
//	                 array of [key, value] pairs, at most MaxAttrValueLen
//	<key>            each logfmt key=value pair of the message: router lines'
//	                 status, code, method, path, service, connect, bytes,
//	                 request_id, fwd, at, desc; l2met's measure#..., sample#...,
//	                 count#...; anything an app logs as key=value
//
// A message key or an attribute whose name is one of drainpipe's own fields,
// or starts with "_", is stored as "msg.<key>" or "attr.<key>": router lines'
// dyno=web.1 and host=... are msg.dyno and msg.host. Empty values are not
// stored. What a hostile line could abuse is capped and counted in
// drainpipe_archive_fields_cut_total (the message itself is never cut):
// MaxMessageFields pairs per message, keys of MaxKeyLen bytes of
// [A-Za-z0-9_.#@:/-], values of MaxValueLen (attributes MaxAttrValueLen),
// MaxAttrs attributes, and MaxNamesPerApp distinct names per app for good —
// VictoriaLogs drops rows of a block with more than 2,000 distinct field
// names, which this cap keeps out of reach. A message's pairs past the caps
// stay in the message; attributes, which are not in it, go to attrs.rest.
//
// # Line ids
//
// Every line gets an id, an int64 that grows in the order lines are applied
// and is never reused (not even after retention deleted every line): a
// permalink, and a follower's cursor. Ids come from state.json's last_id. Lines
// imported from the SQLite archive keep their ids; new ones come after them.
//
// # Exactly once
//
// Each Write, holding the one writer lock:
//
//  1. plans: entries at or below the Seq stored (or staged, below) for their
//     journal identity (drainpipe.Entry.Journal) are skipped and counted as
//     drainpipe_archive_entries_skipped_total{reason="already_stored"}; an
//     entry of a journal not seen before is new whatever its Seq (the journal's
//     directory was lost, or the deployment moved to or from --nats), so it is
//     never skipped. Every other record gets its ids;
//  2. saves the intent: the Seqs of the entries, with those of the Writes
//     staged before it, and the ids given to their rows;
//  3. adds the rows (converted on every CPU) and makes them searchable, and
//     stages the entries' position and counts (Stats shows them at once).
//
// The archive is a journal.DeferredSink: Write returns then, and the journal
// keeps the entries until Durable says they are durable. At most SettleEvery
// after the first staged Write (at the next Write, or when the journal asks
// Durable, which it does before each delivery and every quarter of a second
// while it waits), the archive settles everything staged at once:
//
//  4. waits until the rows are on disk (the barrier, below);
//  5. saves the new state: positions, counts and last id, with no intent.
//
// Only then does Durable move and the journal forget the entries. Retention,
// the import and Close settle first, so a state they save never loses a staged
// intent and counts each row once. A crash before step 5 leaves the intent:
// Open looks up which of its ids reached the disk, and when the journal
// delivers the entries again, only the missing rows are added, under the ids
// they were promised. So every acknowledged line is stored once, under one
// id, and the counts match the rows.
//
// Why deferred: a barrier costs tens of milliseconds whatever its size, and
// ending every Write with one made Writes large (16 MiB) to pay it less often,
// so the archive held 16 MiB of journal messages and their decoded records
// while it ran. Settled together, Writes are DeliveryBytes (4 MiB), what they
// hold is freed as soon as their rows are added, and the barrier comes as
// often as before or less.
//
// # Durability: the barrier
//
// VictoriaLogs keeps new rows in memory and writes them to disk within its
// flush interval (1 s here); it has no call that returns once given rows are
// on disk. The barrier gets there with its public calls: it takes (and
// deletes) a snapshot of each day the write touched, which writes out every
// in-memory part no merge holds at that moment, of the rows and of the stream
// index, and repeats until the storage reports no in-memory part, no pending
// row and no pending index item. The barrier costs tens of milliseconds, mostly
// fsyncs, whatever the size of what it settles. (It used to detach and attach
// the days of a write that registered a new stream, to be sure of the index;
// searches running meanwhile silently missed those days.)
//
// One gap remains: if a crash comes after a new stream's rows reached the
// disk but before its index entry did (inside VictoriaLogs' flush interval:
// an index part an in-memory merge held at the barrier's snapshot), stream filters ({app="x"}) miss that stream's rows of
// that day until another line of the stream arrives that day (the first one
// registers it again). drainpipe's own queries use field filters (app:="x"),
// which find every row.
//
// # Searchable
//
// Rows are searchable as soon as step 3 ends, before the barrier: at idle a
// line is searchable a few milliseconds after the journal hands it over
// (which it does at once), well within one flush interval of its 2xx. Stats
// count them then too. After returns only lines whose whole Write was searchable
// when Wait last woke, so a follower never passes over a line.
//
// # Retention
//
// Retention deletes whole days (VictoriaLogs partitions), oldest first: the
// days that ended more than Config.Retention ago, then, while the archive is
// over Config.MaxBytes, the oldest days left but the newest two. Before a day
// goes, its lines are counted per app and taken off the counts in the same
// durable step that records the deletion, so the counts stay exact; a crash
// in the middle is finished by Open. Deleted lines and days are counted in
// drainpipe_archive_rows_pruned_total and _days_pruned_total by reason (age,
// disk). Because _time is the line's own time, a line is kept Retention after
// its own day (a line arriving with a time older than that is stamped with the
// time it was received instead, and keeps its own time in "time").
//
// # Importing the SQLite archive
//
// With Config.Import set to an archive.db written by drainpipe's SQLite archive,
// Open reserves its ids, and a background loop imports its lines in steps of
// 50,000 (intent, rows, barrier, state, like a Write), with their ids, logging
// its progress. A stop resumes at the next start; a step a crash interrupted
// is reconciled like a Write. At the end the per-app counts of lines Heroku
// dropped are added, and the file is left as it was, for the user to delete.
// Lines received longer than the retention ago are not imported. A file that
// holds only the metrics history (no lines table) imports nothing.
//
// # Queries
//
// Search, Tail, After, Wait and Stats are what the admin API serves today.
// For everything else the archive gives the engine's own language, LogsQL
// (https://docs.victoriametrics.com/victorialogs/logsql/):
//
//   - ParseQuery parses LogsQL (an error wraps ErrBadQuery);
//   - Query runs a parsed query and streams result blocks, one at a time, in
//     constant memory (add a time range with (*logstorage.Query).AddTimeFilter);
//   - Lines runs it and turns each row into a Line; LinesOf does that for a
//     block a caller got elsewhere;
//   - NewQueryContext, RunQuery, GetFieldNames, GetFieldValues,
//     GetStreamFieldNames, GetStreamFieldValues, GetStreams and GetStreamIDs are
//     VictoriaLogs' own calls on this storage, for a VictoriaLogs-compatible
//     query API (hits, facets, field values, stats_query and tail are pipes
//     and calls of these).
//
// For example, over one app (use the field filter app:="...", not the stream
// filter, see above):
//
//	app:="myapp" H12                                  words of the message
//	app:="myapp" status:=503 dyno:="router"           fields; exact values
//	app:="myapp" _time:1h dyno:="web.1"               the last hour of one dyno
//	app:="myapp" "Request timeout"                    a phrase
//	app:="myapp" i(h12) OR R14                         any case; or
//	app:="myapp" path:="/slow"* | stats by (status) count()
//	app:="myapp" | stats by (msg.dyno) quantile(0.99, service) p99
//
// # Memory
//
// VictoriaLogs sizes its caches from a process-wide limit, Config.CacheBytes
// of the first Open (DefaultCacheBytes), set through its flags; its packages
// read flags from flag.CommandLine and panic unless it was parsed, so Open
// parses an empty command line for them if no one did. Its log lines go to the
// first archive's logger, at WARN and above.
package archive
