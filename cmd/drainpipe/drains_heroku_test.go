package main_test

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe/logplex"
)

// TestDrainsHerokuRegistrationIsKept: a drain has one Heroku registration. Another
// token is refused with a sentence naming the one it has and how to change it; the
// same token again changes nothing; the one recorded keeps working (its syslog
// lines are stored, `drains remove` removes it on Heroku). Audit 2026-11-29: the
// second `--heroku-token` replaced the first, whose lines were then dropped as
// "unknown token", and a drain registered with --heroku was left behind on Heroku.
func TestDrainsHerokuRegistrationIsKept(t *testing.T) {
	t.Parallel()
	const t1, t2 = "d.11111111-1111-4111-8111-111111111111", "d.22222222-2222-4222-8222-222222222222"
	cert, key := selfSigned(t)
	s := startServer(t, "", "--syslog-tls-listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key)
	if _, errOut, code := s.cli("drains", "add", "s", "--heroku-token", t1); code != 0 {
		t.Fatalf("add --heroku-token t1: exit %d: %s", code, errOut)
	}
	_, errOut, code := s.cli("drains", "add", "s", "--heroku-token", t2)
	if code == 0 || !strings.Contains(errOut, t1) || !strings.Contains(errOut, "drainpipe drains remove s") {
		t.Errorf("add --heroku-token t2 over t1: exit %d: %q; want a refusal naming t1 and how to change it", code, errOut)
	}
	out, errOut, code := s.cli("drains", "add", "s", "--heroku-token", t1)
	if code != 0 || !strings.Contains(out, "already: nothing changed") {
		t.Errorf("add --heroku-token t1 again: exit %d: %q %q; want it to say nothing changed", code, out, errOut)
	}
	conn, err := tls.Dial("tcp", s.syslogAddr("tls"), &tls.Config{InsecureSkipVerify: true}) // self-signed, made above
	if err != nil {
		t.Fatal(err)
	}
	conn.Write(logplex.AppendFrame(nil, []byte("<190>1 2026-01-01T00:00:00Z "+t1+" app web.1 - - still delivering\n")))
	conn.Close()
	if lines := s.waitLines("s", 1); len(lines) != 1 || lines[0].Message != "still delivering" {
		t.Fatalf("the line of t1: %+v, want it stored for s", lines)
	}

	// An HTTPS drain registered by drainpipe: a token recorded over it is refused,
	// so `drains remove` still removes it on Heroku.
	emu, env := startHeroku(t, "happ")
	if _, errOut, code := s.cliEnv(env, "drains", "add", "happ", "--heroku"); code != 0 {
		t.Fatalf("add --heroku: exit %d: %s", code, errOut)
	}
	hd := emu.Drains("happ")
	_, errOut, code = s.cliEnv(env, "drains", "add", "happ", "--heroku-token", t2)
	if code == 0 || len(hd) != 1 || !strings.Contains(errOut, hd[0].Token) || !strings.Contains(errOut, "removes it on Heroku too") {
		t.Errorf("add --heroku-token over a registration by drainpipe: exit %d: %q", code, errOut)
	}
	out, errOut, code = s.cliEnv(env, "drains", "remove", "happ")
	if code != 0 || !strings.Contains(out, "Removed its Heroku drain "+hd[0].Token) || len(emu.Drains("happ")) != 0 {
		t.Errorf("remove: exit %d %s\n%s\nHeroku keeps %+v", code, errOut, out, emu.Drains("happ"))
	}
}

// TestDrainsHerokuSyslogOnRegisteredDrain: `--heroku --syslog` on a drain whose
// Heroku drain delivers elsewhere (its HTTPS URL) is refused, naming both
// addresses and how to change it, and changes nothing on either side; asked for the
// address it has, it says Heroku had it. Audit 2026-11-29: it printed "Heroku
// already had it" for the HTTPS drain, and no syslog drain was registered.
func TestDrainsHerokuSyslogOnRegisteredDrain(t *testing.T) {
	t.Parallel()
	const syslogURL = "syslog+tls://127.0.0.1:18582"
	emu, env := startHeroku(t, "happ3", "sapp")
	s := startServer(t, "")
	if _, errOut, code := s.cliEnv(env, "drains", "add", "happ3", "--heroku"); code != 0 {
		t.Fatalf("add --heroku: exit %d: %s", code, errOut)
	}
	before := emu.Drains("happ3")
	out, errOut, code := s.cliEnv(env, "drains", "add", "happ3", "--heroku", "--syslog", syslogURL)
	if code == 0 || strings.Contains(out, "already had it") {
		t.Errorf("add --heroku --syslog on an HTTPS registration: exit %d, printed %q", code, out)
	}
	for _, w := range []string{before[0].Token, ":xxxxx@127.0.0.1:1/logs", syslogURL, "drainpipe drains remove happ3", "drainpipe drains add happ3 --heroku --syslog " + syslogURL} {
		if !strings.Contains(errOut, w) {
			t.Errorf("refusal %q does not say %q", errOut, w)
		}
	}
	if strings.Contains(errOut, strings.TrimPrefix(strings.Split(before[0].URL, "@")[0], "http://")) {
		t.Errorf("refusal %q shows the drain's secret", errOut)
	}
	if after := emu.Drains("happ3"); len(after) != 1 || after[0] != before[0] {
		t.Errorf("Heroku has %+v, want only %+v", after, before)
	}
	d := drainOf(t, s, "happ3")
	if d.Heroku == nil || d.Heroku.Token != before[0].Token {
		t.Errorf("recorded registration %+v, want %s", d.Heroku, before[0].Token)
	}

	// The same syslog address again: Heroku had it, truly.
	if _, errOut, code := s.cliEnv(env, "drains", "add", "sapp", "--heroku", "--syslog", syslogURL); code != 0 {
		t.Fatalf("add --heroku --syslog: exit %d: %s", code, errOut)
	}
	out, errOut, code = s.cliEnv(env, "drains", "add", "sapp", "--heroku", "--syslog", syslogURL)
	if hd := emu.Drains("sapp"); code != 0 || len(hd) != 1 || !strings.Contains(out, syslogURL+": Heroku already had it, as drain "+hd[0].Token) {
		t.Errorf("add --heroku --syslog again: exit %d: %q %q; Heroku has %+v", code, out, errOut, hd)
	}
}

// TestDrainsHerokuErrorIsEscaped: Heroku's error text reaches stderr with its
// control characters escaped, never sent to the terminal (audit 2026-11-29).
func TestDrainsHerokuErrorIsEscaped(t *testing.T) {
	t.Parallel()
	emu, env := startHeroku(t, "eapp")
	s := startServer(t, "")
	emu.SetFail(1, http.StatusConflict, "conflict", "The app\x1b]0;pwned\a is \u202ebeing transferred.")
	_, errOut, code := s.cliEnv(env, "drains", "add", "eapp", "--heroku")
	if code == 0 || strings.ContainsAny(errOut, "\x1b\a\u202e") || !strings.Contains(errOut, `The app\x1b]0;pwned\a is \u202ebeing transferred.`) {
		t.Errorf("exit %d, stderr %q: want Heroku's message with its control characters escaped", code, errOut)
	}
}
