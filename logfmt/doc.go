// Package logfmt reads the key=value pairs of logfmt lines as Heroku's router,
// runtime metrics, add-ons and l2met-style apps write them.
//
// The reader never fails: real lines mix logfmt with free text, so anything that is
// not a pair is skipped or read as a bare key, and a line's bytes are never
// attributed to a key they do not follow. The rules, in the order they apply:
//
//   - Pairs are separated by ASCII whitespace and control bytes; anything else,
//     including non-ASCII and invalid UTF-8, belongs to a key or a value.
//   - A key runs up to '=', '"' or whitespace. A key with no '=' is a bare key with
//     the value "". A quote directly after a key ends the key.
//   - A value after '=' is either quoted or runs to the next whitespace. An empty
//     value (`dyno= connect=`) is "".
//   - A quoted value ends at the next unescaped '"'; \" and \\ inside it stand for
//     '"' and '\'; any other backslash is kept as written. A quote that is never
//     closed runs to the end of the line.
//   - Text that has no key (`=value`, or a quoted string standing alone) is skipped
//     whole, quotes included, so its contents never turn into pairs.
//   - Duplicate keys are all reported, in line order.
package logfmt
