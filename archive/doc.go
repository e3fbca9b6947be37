// Package archive is drainpipe's local searchable archive: a drainpipe.Sink
// that stores every log line in one SQLite file (<data>/archive.db) with a
// full-text index on the message, and the queries behind `drainpipe search`,
// `drainpipe tail --follow` and `drainpipe drains list`.
//
// # Schema
//
// The file is plain SQLite in WAL mode; any sqlite3 built with FTS5 opens it:
//
//	lines        one row per record; id INTEGER PRIMARY KEY grows in arrival
//	             order and is never reused. Columns: app, drain, time, received,
//	             priority, host, source, dyno, msgid, structured_data, message,
//	             malformed (0/1). time and received are integer nanoseconds since
//	             the Unix epoch, UTC (-9223372036854775808 stands for "no time").
//	             Indexes: (app, time), (app, id), (received).
//	lines_fts    FTS5 index of lines.message (external content, unicode61).
//	state        one row: applied_seq, the highest journal entry stored, and
//	             last_id, the highest line id ever assigned.
//	app_counts   lines, malformed lines and lines Heroku reported dropped (its L10/L12/L13
//	             lines and the senders' drop headers) per app, kept with every write and prune.
//
// For example:
//
//	SELECT datetime(time / 1e9, 'unixepoch'), dyno, message FROM lines
//	WHERE id IN (SELECT rowid FROM lines_fts WHERE lines_fts MATCH 'H12')
//	ORDER BY time DESC LIMIT 20;
//
// Delete lines only through drainpipe: the index is not told of a DELETE on
// lines. If it was, rebuild it with
// INSERT INTO lines_fts (lines_fts) VALUES ('rebuild').
//
// # Exactly once
//
// Each Write is one transaction that stores the lines of the entries and the
// highest Entry.Seq among them. Entries the journal delivers again after a crash
// between that commit and its acknowledgement have Seq ≤ applied_seq and are
// skipped, so no line is ever stored twice.
//
// # Durability and speed
//
// The writer runs synchronous=FULL: WAL mode with synchronous=NORMAL is safe
// against a killed process, but after a power loss it may lose the last
// transactions, which the journal has already forgotten once Write returned.
// FULL costs one fsync of the WAL per Write (a delivery of thousands of
// lines); BenchmarkWrite measured FULL and NORMAL within a few percent of each
// other, inside the noise of a shared machine, so durability wins.
//
// Ingest does as little per line as it can: one transaction per Write,
// multi-row INSERTs of 64 lines through statements prepared once, and one
// INSERT ... SELECT that indexes all the new messages at the end of the
// transaction. The FTS table is external-content (the text is stored once, in
// lines), has columnsize=0 (no per-row size record; results are never ranked)
// and merges segments 8 at a time (automerge=8) rather than 4, trading a little
// query time for less rewriting on ingest; its term hash holds 32 MiB before a
// flush (hashsize; 1 MiB by default), so one write makes few, large segments.
// Without the FTS index the same writes run at ~125k lines/s; with it, ~45k:
// the index is the archive's cost, and larger writes (the journal hands a
// busy archive up to 16 messages at once) amortise it best. detail=full stays because phrase
// ("Request timeout") and NEAR queries need token positions. A profile of
// BenchmarkWrite puts about 60% of the CPU in FTS5 (tokenizing, the in-memory
// term hash, flushing and merging segments) and 30% in the B-tree inserts of
// the rows and their three indexes.
//
// Searches, tails and stats run on a separate read-only connection pool, so
// in WAL mode they neither wait for the writer nor block it. A query that few
// lines match (under 5000 in all) is answered from the index and sorted; one
// that many match walks the app's lines newest first and stops at the limit.
//
// # Retention
//
// Prune deletes lines received before now minus Config.Retention, with their
// index entries, in chunks of a few thousand lines per transaction so that
// Write never waits long behind it. Open starts a loop that prunes at once and
// then hourly; Close stops it.
package archive
