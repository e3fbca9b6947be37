// Package logplextest helps tests that send real logplex bodies to a store with
// a time window, such as CloudWatch Logs (14 days back, 2 hours ahead): the
// recorded fixtures' lines are years old.
package logplextest

import (
	"bytes"
	"strconv"
	"time"
)

// Recent returns body with each frame's RFC 5424 timestamp moved to a recent
// time: the frames' order is kept, the last at now and each earlier one step
// before the next. Every new timestamp has its old one's layout (fraction
// digits, offset), hence its length, so the octet counts still hold. Frames
// that do not parse, or carry no timestamp, are left as they are.
func Recent(body []byte, now time.Time, step time.Duration) []byte {
	type stamp struct{ start, end int }
	var stamps []stamp
	for rest, off := body, 0; len(rest) > 0; {
		sp := bytes.IndexByte(rest, ' ')
		n, err := strconv.Atoi(string(rest[:max(sp, 0)]))
		if sp <= 0 || err != nil || n <= 0 || sp+1+n > len(rest) {
			break
		}
		msg := rest[sp+1 : sp+1+n]
		if a := bytes.IndexByte(msg, ' '); a > 0 && bytes.HasSuffix(msg[:a], []byte(">1")) {
			if b := bytes.IndexByte(msg[a+1:], ' '); b > 0 {
				base := off + sp + 1 + a + 1
				stamps = append(stamps, stamp{base, base + b})
			}
		}
		off += sp + 1 + n
		rest = rest[sp+1+n:]
	}
	out := bytes.Clone(body)
	for i, s := range stamps {
		t := now.Add(-time.Duration(len(stamps)-1-i) * step)
		if ts, ok := relayout(string(body[s.start:s.end]), t); ok {
			copy(out[s.start:s.end], ts)
		}
	}
	return out
}

// relayout formats t as old is written: the same fraction digits and offset.
func relayout(old string, t time.Time) (string, bool) {
	parsed, err := time.Parse(time.RFC3339Nano, old)
	if err != nil || len(old) < len("2006-01-02T15:04:05Z") {
		return "", false
	}
	zone := old[19:]
	frac := ""
	if zone[0] == '.' {
		i := 1
		for i < len(zone) && zone[i] >= '0' && zone[i] <= '9' {
			i++
		}
		frac, zone = zone[:i], zone[i:]
	}
	_, offset := parsed.Zone()
	t = t.In(time.FixedZone("", offset))
	s := t.Format("2006-01-02T15:04:05")
	if frac != "" {
		ns := strconv.Itoa(1e9 + t.Nanosecond())[1:]
		s += "." + ns[:len(frac)-1]
	}
	s += zone
	if len(s) != len(old) {
		return "", false
	}
	return s, true
}
