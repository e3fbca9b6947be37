// Package syslog receives Heroku syslog drains (syslog:// over TCP and syslog+tls://):
// a stream parser for RFC 5424 and RFC 3164 messages, and a listener that batches the
// lines of each connection by drain and appends them to the journal.
//
// # Framing
//
// One connection may mix RFC 6587 octet counting and non-transparent framing; each frame
// is detected on its own. Whitespace between frames is skipped. A frame that starts with
// digits and a space is octet-counted ("0 " is an empty frame and yields nothing); any
// other frame runs to the next LF (a CR before it is dropped), including one that starts
// with digits not followed by a space. A frame longer than the maximum frame size is never
// buffered whole: it is cut into pieces of that size (the first one with its count),
// each a malformed record.
// The bytes of a frame cut short by the end of the connection become a malformed record.
//
// # Messages
//
// RFC 5424 messages are read by rfc5424.Parse with STRUCTURED-DATA ("- -" from
// Heroku). Otherwise an RFC 3164 message, "<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG", maps
// TAG to Source and PID to Dyno; its timestamp has no year and no zone, so it is read as
// UTC in the year of the receive time (the previous year when that would put it more
// than a month ahead). What is neither is a malformed record holding the raw frame.
// Invalid UTF-8 is escaped by rfc5424.ValidUTF8.
//
// # Drains
//
// Heroku puts the drain token ("d.<uuid>") in HOSTNAME, and syslog has no other
// authentication: a line whose token names no drain is counted in
// drainpipe_syslog_unknown_token_lines_total and not stored, and its token is logged
// (once per token per minute, at most 100 tokens a minute) so a misconfigured sender
// can be found. The token is an identifier, not a credential Heroku keeps secret: it is
// in the HOSTNAME of every line Heroku sends and in `heroku drains`. A malformed frame has no
// readable token: it is stored on the drain of the connection's last good line, and
// counted in drainpipe_syslog_malformed_lines_total{stored="false"} and dropped when the
// connection has had none yet. The first piece of a frame too long to keep whole has
// its header, though: its token gives the connection its drain, as a good line's does.
//
// # Batches and back-pressure
//
// The lines of a connection are grouped per drain into batches of up to BatchLines,
// appended at the latest FlushInterval after their first line. While an append fails
// (the journal is full or unavailable) the connection is not read, so TCP pushes back on
// the sender, and the append is retried; nothing read is dropped.
//
// # Limits
//
// What a stranger can make the server hold is bounded: at most MaxConns connections per
// listener (at the cap the quietest is closed for a newcomer), a TLS handshake within
// HandshakeTimeout, an idle connection closed after IdleTimeout, and each connection's
// read buffer grows only as the frame being read needs, up to MaxFrame: MaxConns ×
// MaxFrame bytes at most. A batch is appended once it holds BatchLines lines or
// BatchBytes bytes.
//
// # Shutdown
//
// Shutdown stops accepting and closes the sending side of every open connection (TCP
// FIN, TLS close_notify: a client such as rsyslog then reconnects elsewhere), but keeps
// reading each until it ends or sends nothing for DrainQuiet (1 s), so the lines already
// on their way are journaled, not lost. Reading stops shortly before the shutdown's
// deadline, leaving time to append what was read: a connection still sending then is
// cut (drainpipe_syslog_cut_connections_total, and a log line naming it), and lines read
// but not appended by the deadline are counted in drainpipe_syslog_lost_lines_total.
package syslog
