// Package logplex reads and writes the bodies of Heroku's HTTPS log drain requests
// (Content-Type application/logplex-1): frames "<octet count> SP <RFC 5424 message>"
// back to back, as RFC 6587 octet counting defines them.
//
// Frames are cut by their octet count only, never by newline: logplex's L10 frame has no
// trailing newline and runs straight into the next one, and a message may hold newlines.
// Parsing never fails and never drops a byte; every byte of a body ends up in exactly one
// of: a record, a count prefix, or whitespace between frames. The rules:
//
//   - Spaces, CR and LF between frames are skipped.
//   - A count is one or more ASCII digits followed by one space; leading zeros are
//     accepted ("0066 "). A count of zero yields no record and is counted in Stats.Empty.
//   - A frame whose message parses as RFC 5424 (package rfc5424) becomes a record. A frame
//     that is counted correctly but whose message does not parse becomes a record with
//     Malformed set and Message holding the frame's raw message bytes (count excluded).
//   - A bad unit (no count where a frame should start, a count that is not digits and a
//     space, such as "-5 " or "12a ", or a count that runs past the end of the body) is
//     resynchronised: it runs up to the next line that starts like a frame, or to the end
//     of the body, and becomes one Malformed record holding its raw bytes, count included
//     (the CR and LF ending it are skipped as whitespace). A line starts like a frame when
//     it begins with a count-like token (a digit or '-' and then at most 19 bytes that are
//     not whitespace), a space and '<'. Parsing then carries on from that line, so a
//     valid frame after a bad one still comes out as a valid record.
//
// Invalid UTF-8 is never dropped either: rfc5424.ValidUTF8 writes each invalid byte as
// the four characters `\xNN`.
package logplex
