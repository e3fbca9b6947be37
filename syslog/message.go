package syslog

import (
	"strings"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/rfc5424"
)

// parse reads one frame as RFC 5424, else as RFC 3164, else keeps it as malformed.
func parse(frame string, received time.Time) drainpipe.Record {
	rec, ok := rfc5424.Parse(frame, rfc5424.Options{Received: received, StructuredData: true})
	if ok {
		return rec
	}
	if r, ok := parse3164(frame, received); ok {
		return r
	}
	return rec // malformed, holding the frame
}

// parse3164 reads "<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG". HOST may be missing (a
// first word that ends in ':' is the tag), and so may the tag: then all after HOST is
// the message.
func parse3164(s string, received time.Time) (drainpipe.Record, bool) {
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		s = strings.TrimSuffix(t, "\r")
	}
	pri, rest, ok := cutPRI(s)
	if !ok {
		return drainpipe.Record{}, false
	}
	t, ok := parseStamp(rest, received)
	if !ok || len(rest) < len(stampLayout)+1 || rest[len(stampLayout)] != ' ' {
		return drainpipe.Record{}, false
	}
	rest = rest[len(stampLayout)+1:]
	rec := drainpipe.Record{Received: received, Time: t, Priority: pri}
	host, after, _ := strings.Cut(rest, " ")
	if strings.HasSuffix(host, ":") {
		host, after = "", rest // no HOST: the first word is the tag
	} else if !printable(host) {
		return drainpipe.Record{}, false
	}
	rec.Host = host
	rec.Message = rfc5424.ValidUTF8([]byte(after))
	if tag, pid, msg, ok := cutTag(after); ok {
		rec.Source, rec.Dyno, rec.Message = tag, pid, rfc5424.ValidUTF8([]byte(msg))
	}
	return rec, true
}

// cutPRI reads "<PRI>", PRI at most 191.
func cutPRI(s string) (pri int, rest string, ok bool) {
	end := strings.IndexByte(s, '>')
	if len(s) < 3 || s[0] != '<' || end < 2 || end > 4 {
		return 0, "", false
	}
	for i := 1; i < end; i++ {
		if !isDigit(s[i]) {
			return 0, "", false
		}
		pri = pri*10 + int(s[i]-'0')
	}
	return pri, s[end+1:], pri <= 191
}

// cutTag reads "TAG: MSG" or "TAG[PID]: MSG"; TAG and PID are printable ASCII.
func cutTag(s string) (tag, pid, msg string, ok bool) {
	word, _, _ := strings.Cut(s, " ")
	colon := strings.IndexByte(word, ':')
	if colon < 1 {
		return "", "", "", false
	}
	tag = word[:colon]
	if open := strings.IndexByte(tag, '['); open >= 0 {
		if open == 0 || !strings.HasSuffix(tag, "]") {
			return "", "", "", false
		}
		tag, pid = tag[:open], tag[open+1:len(tag)-1]
	}
	if !printable(tag) || strings.ContainsAny(tag, "[]") || pid != "" && !printable(pid) {
		return "", "", "", false
	}
	msg = strings.TrimPrefix(s[colon+1:], " ")
	return tag, pid, msg, true
}

const stampLayout = "Jan _2 15:04:05"

// parseStamp reads the RFC 3164 timestamp at the start of s. It has no year and no
// zone: the year is received's (in UTC), or the one before when that would put the
// line more than a month after received (December's lines read in January).
func parseStamp(s string, received time.Time) (time.Time, bool) {
	if len(s) < len(stampLayout) {
		return time.Time{}, false
	}
	p, err := time.Parse(stampLayout, s[:len(stampLayout)])
	if err != nil {
		return time.Time{}, false
	}
	year := received.UTC().Year()
	if time.Date(year, p.Month(), p.Day(), 0, 0, 0, 0, time.UTC).After(received.AddDate(0, 1, 0)) {
		year--
	}
	t := time.Date(year, p.Month(), p.Day(), p.Hour(), p.Minute(), p.Second(), 0, time.UTC)
	return t, t.Day() == p.Day() // Feb 29 outside a leap year does not exist
}

// printable reports whether s is one or more printable ASCII characters, as RFC 5424
// wants of header fields; it also keeps the fields valid UTF-8.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return s != ""
}
