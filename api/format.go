package api

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// HerokuTime is the timestamp layout of `heroku logs`.
const HerokuTime = "2006-01-02T15:04:05.000000-07:00"

// AppendText appends l as `heroku logs` prints it, and a newline:
//
//	2024-05-01T10:00:00.000000+00:00 app[web.1]: Started GET "/"
//
// A line without a dyno (a syslog line without a PROCID) prints as `app: ...`, one
// without a source either as its time and message. A malformed line has no header to show: it prints at the time it was received,
// as drainpipe[malformed], with its raw frame.
func AppendText(dst []byte, l *Line) []byte {
	if l.Malformed {
		dst = appendHerokuTime(dst, l.Received)
		dst = append(dst, " drainpipe[malformed]: "...)
	} else {
		dst = appendHerokuTime(dst, l.Time)
		dst = append(dst, ' ')
		switch {
		case l.Dyno != "":
			dst = append(dst, l.Source...)
			dst = append(dst, '[')
			dst = append(dst, l.Dyno...)
			dst = append(dst, "]: "...)
		case l.Source != "": // a syslog line without a PROCID
			dst = append(dst, l.Source...)
			dst = append(dst, ": "...)
		}
	}
	dst = append(dst, l.Message...)
	return append(dst, '\n')
}

// AppendJSON appends l as one JSON object, byte for byte what encoding/json
// writes for it, and a newline. It is the fast path of the server's streams
// (export writes hundreds of thousands of lines a second).
func AppendJSON(dst []byte, l *Line) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, l.ID, 10)
	dst = appendTimeField(dst, `,"time":`, l.Time)
	dst = appendTimeField(dst, `,"received":`, l.Received)
	dst = appendStringField(dst, `,"drain":`, l.Drain)
	dst = appendStringField(dst, `,"app":`, l.App)
	dst = appendStringField(dst, `,"source":`, l.Source)
	dst = appendStringField(dst, `,"dyno":`, l.Dyno)
	if l.Host != "" {
		dst = appendStringField(dst, `,"host":`, l.Host)
	}
	dst = append(dst, `,"priority":`...)
	dst = strconv.AppendInt(dst, int64(l.Priority), 10)
	if l.MsgID != "" {
		dst = appendStringField(dst, `,"msgid":`, l.MsgID)
	}
	if l.StructuredData != "" {
		dst = appendStringField(dst, `,"structured_data":`, l.StructuredData)
	}
	dst = appendStringField(dst, `,"message":`, l.Message)
	dst = append(dst, `,"malformed":`...)
	dst = strconv.AppendBool(dst, l.Malformed)
	if l.Part != "" {
		dst = appendStringField(dst, `,"part":`, l.Part)
	}
	return append(dst, "}\n"...)
}

func appendTimeField(dst []byte, name string, t time.Time) []byte {
	dst = append(dst, name...)
	dst = append(dst, '"')
	dst = appendRFC3339Nano(dst, t)
	return append(dst, '"')
}

func appendStringField(dst []byte, name, s string) []byte {
	dst = append(dst, name...)
	return AppendJSONString(dst, s)
}

const hex = "0123456789abcdef"

// jsonSafe marks the ASCII bytes a JSON string holds as they are.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// AppendJSONString appends s as a JSON string the way encoding/json does: <, >
// and & escaped for HTML, invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendUTC appends t (UTC, year 0 to 9999) as 2006-01-02T15:04:05 followed by
// digits of its fraction: 6 fixed (HerokuTime), or up to 9 with trailing zeros
// cut (RFC3339Nano); ok is false for another time, which the caller formats
// with time.Time.AppendFormat. The hot path of AppendText and AppendJSON:
// AppendFormat parses its layout on every call.
func appendUTC(dst []byte, t time.Time, fixed6 bool) ([]byte, bool) {
	if t.Location() != time.UTC {
		return dst, false
	}
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return dst, false
	}
	hour, minute, sec := t.Clock()
	dst = append(dst,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
	ns := t.Nanosecond()
	digits := 9
	if fixed6 {
		ns /= 1000
		digits = 6
	} else {
		for digits > 0 && ns%10 == 0 {
			ns /= 10
			digits--
		}
	}
	if digits == 0 {
		return dst, true
	}
	dst = append(dst, '.')
	var frac [9]byte
	for i := digits - 1; i >= 0; i-- {
		frac[i] = byte('0' + ns%10)
		ns /= 10
	}
	return append(dst, frac[:digits]...), true
}

// appendHerokuTime appends t in UTC as HerokuTime.
func appendHerokuTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	if out, ok := appendUTC(dst, t, true); ok {
		return append(out, "+00:00"...)
	}
	return t.AppendFormat(dst, HerokuTime)
}

// appendRFC3339Nano appends t as time.RFC3339Nano formats it.
func appendRFC3339Nano(dst []byte, t time.Time) []byte {
	if out, ok := appendUTC(dst, t, false); ok {
		return append(out, 'Z')
	}
	return t.AppendFormat(dst, time.RFC3339Nano)
}
