package archive_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
)

// fixtureRecords reads testdata/heroku-drain-realistic.lines.txt (a copy of the
// shared Heroku fixture) into records by a plain split of the syslog header:
// `<PRI>1 TIMESTAMP HOST SOURCE DYNO - MESSAGE`. A line that does not split is
// kept as malformed, as the real parser would.
func fixtureRecords(t testing.TB, app string, received time.Time) []drainpipe.Record {
	t.Helper()
	f, err := os.Open("testdata/heroku-drain-realistic.lines.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []drainpipe.Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		recs = append(recs, parseLine(sc.Text(), app, received))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

func parseLine(line, app string, received time.Time) drainpipe.Record {
	r := drainpipe.Record{Drain: "d_test", App: app, Received: received, Time: received, Priority: -1, Message: line, Malformed: true}
	f := strings.SplitN(line, " ", 7)
	if len(f) < 7 || !strings.HasPrefix(f[0], "<") {
		return r
	}
	pri, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(f[0], "<"), ">1"))
	if err != nil {
		return r
	}
	ts, err := time.Parse(time.RFC3339Nano, f[1])
	if err != nil {
		return r
	}
	msgid := f[5]
	if msgid == "-" {
		msgid = ""
	}
	return drainpipe.Record{Drain: "d_test", App: app, Time: ts, Received: received, Priority: pri,
		Host: f[2], Source: f[3], Dyno: f[4], MsgID: msgid, Message: f[6]}
}
