package syslog_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/syslog"
)

// TestLoggerCommand sends through util-linux logger(1), a syslog client that is not
// ours: RFC 5424 octet-counted, and RFC 3164 newline-framed.
func TestLoggerCommand(t *testing.T) {
	t.Parallel()
	logger, err := exec.LookPath("logger")
	if err != nil {
		t.Fatal("logger(1) is missing: install bsdutils (Debian, Ubuntu) or util-linux; scripts/test installs it")
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	app := newCollector(0)
	s, _ := startServer(t, syslog.Config{}, drainMap{host: drain}, app)
	_, port, _ := strings.Cut(s.Addr().String(), ":")
	for _, args := range [][]string{
		{"--octet-count", "--rfc5424", "hello from logger 5424"},
		{"--rfc3164", "hello from logger 3164"},
	} {
		cmd := exec.Command(logger, append([]string{"--tcp", "-n", "127.0.0.1", "-P", port, "-t", "myapp", "--id=42", "-p", "local3.warning"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
		}
	}
	// Each run of logger is one connection, so the two lines may be stored in either order.
	byMessage := map[string]drainpipe.Record{}
	for _, r := range app.waitLines(2) {
		byMessage[r.Message] = r
	}
	for _, want := range []string{"hello from logger 5424", "hello from logger 3164"} {
		r := byMessage[want]
		if r.Malformed || r.Message != want || r.Source != "myapp" || r.Dyno != "42" || r.Host != host ||
			r.Priority != 19*8+4 || r.Drain != drain.ID {
			t.Errorf("record %+v, want %q from myapp[42] at local3.warning", r, want)
		}
	}
	if sd := byMessage["hello from logger 5424"].StructuredData; !strings.HasPrefix(sd, "[timeQuality ") {
		t.Errorf("structured data %q, want logger's timeQuality element", sd)
	}
}
