package rfc5424_test

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/internal/testfixtures"
	"github.com/drainpipe/drainpipe/rfc5424"
)

// FuzzParse holds Parse to its promises: valid UTF-8 in every field, a malformed
// record holding the whole message (escaped) exactly when the header does not
// parse, and header fields that are printable tokens.
func FuzzParse(f *testing.F) {
	sc := bufio.NewScanner(bytes.NewReader(testfixtures.Read(f, "heroku-drain-realistic.lines.txt")))
	for sc.Scan() {
		f.Add(sc.Text(), false)
		f.Add(sc.Text()+"\r\n", true)
	}
	f.Add("<13>1 - host app web.1 - [a b=\"\\]\"] msg", true)
	f.Add("<191>999 2024-02-29t00:00:00z h a p m", false)
	f.Fuzz(func(t *testing.T, msg string, sd bool) {
		received := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
		r, ok := rfc5424.Parse(msg, rfc5424.Options{Received: received, StructuredData: sd})
		for _, field := range []string{r.Host, r.Source, r.Dyno, r.MsgID, r.StructuredData, r.Message} {
			if !utf8.ValidString(field) {
				t.Fatalf("invalid UTF-8 in %+v", r)
			}
		}
		if ok == r.Malformed || !ok && (r.Message != rfc5424.ValidString(msg) || r.Priority != -1) {
			t.Fatalf("Parse(%q) = %+v, %v", msg, r, ok)
		}
		if ok && (r.Priority < 0 || r.Priority > 191 || r.Host == "" || r.Source == "-" || r.Dyno == "-" || r.MsgID == "-" ||
			strings.ContainsAny(r.Host+r.Source+r.Dyno+r.MsgID, " \n")) {
			t.Fatalf("Parse(%q) gave header fields %+v", msg, r)
		}
		if !r.Received.Equal(received) || !drainpipe.KnownTime(r.Time) {
			t.Fatalf("Parse(%q) gave times %v, %v", msg, r.Time, r.Received)
		}
		var into drainpipe.Record
		if ok2, _ := rfc5424.ParseInto(&into, msg, rfc5424.Options{Received: received, StructuredData: sd}); ok2 != ok || into.Message != r.Message {
			t.Fatalf("ParseInto(%q) differs from Parse", msg)
		}
	})
}
