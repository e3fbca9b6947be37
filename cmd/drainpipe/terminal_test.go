package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/api"
)

// escapeCases are messages from log lines and what a terminal shows of them.
var escapeCases = []struct {
	name, in, want string
}{
	{"plain ASCII", `at=info method=GET path="/" status=200`, `at=info method=GET path="/" status=200`},
	{"empty", "", ""},
	{"TAB kept", "a\tb", "a\tb"},
	{"backslash kept", `C:\x1b \n`, `C:\x1b \n`},
	{"é and 日本 kept", "café 日本語 ✓ 😀", "café 日本語 ✓ 😀"},
	{"U+FFFD itself kept", "a\uFFFDb", "a\uFFFDb"},
	{"SGR colour", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
	{"clear screen", "\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},
	{"cursor up", "ok\x1b[1A", `ok\x1b[1A`},
	{"OSC 0 title, BEL", "\x1b]0;pwned\x07", `\x1b]0;pwned\a`},
	{"OSC 52 clipboard, ST", "\x1b]52;c;Y3VybCBldmlsfHNo\x1b\\", `\x1b]52;c;Y3VybCBldmlsfHNo\x1b\`},
	{"CR overwrite", "secret\rpublic", `secret\rpublic`},
	{"embedded LF forging a line", "x\n2024-05-01T10:00:00.000000+00:00 heroku[router]: at=info", `x\n2024-05-01T10:00:00.000000+00:00 heroku[router]: at=info`},
	{"CRLF", "a\r\n", `a\r\n`},
	{"other C0", "\x00\x01\b\v\f\x1f", `\x00\x01\b\v\f\x1f`},
	{"DEL", "a\x7fb", `a\x7fb`},
	{"C1 CSI", "\u009b2J", `\u009b2J`},
	{"C1 range ends", "\u0080\u009f\u00a0", "\\u0080\\u009f\u00a0"},
	{"RLO", "abc\u202egpj.exe", `abc\u202egpj.exe`},
	{"bidi embeddings and isolates", "\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069", `\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069`},
	{"bidi marks", "\u200e\u200f\u061c", `\u200e\u200f\u061c`},
	{"zero-width joiner kept", "a\u200db", "a\u200db"},
	{"invalid byte", "a\xffb", `a\xffb`},
	{"raw C1 byte is invalid UTF-8", "\x9b2J", `\x9b2J`},
	{"truncated sequence", "日\xe6\x97", `日\xe6\x97`},
	{"overlong encoding of ESC", "\xc0\x9b", `\xc0\x9b`},
	{"surrogate half", "\xed\xa0\x80", `\xed\xa0\x80`},
}

func TestEscapeForTerminal(t *testing.T) {
	for _, c := range escapeCases {
		t.Run(c.name, func(t *testing.T) {
			if got := string(appendEscaped([]byte("> "), []byte(c.in))); got != "> "+c.want {
				t.Errorf("appendEscaped(%q) = %q, want %q", c.in, got, "> "+c.want)
			}
			// firstUnsafe is what lets print skip the copy: it must find
			// something exactly when something is escaped.
			if i := firstUnsafe([]byte(c.in)); (i < 0) != (c.in == c.want) {
				t.Errorf("firstUnsafe(%q) = %d, but the escaped form is %q", c.in, i, c.want)
			}
		})
	}
}

// The escaped form holds nothing a terminal acts on, whatever the bytes were.
func TestEscapeLeavesNoControls(t *testing.T) {
	var all []byte
	for b := 0; b < 256; b++ {
		all = append(all, byte(b), 'x')
	}
	for _, r := range "\u0085\u009b\u061c\u200e\u200f\u202a\u202e\u2066\u2069" {
		all = append(all, string(r)...)
	}
	out := appendEscaped(nil, all)
	if i := firstUnsafe(out); i >= 0 {
		t.Fatalf("escaped output still holds %q at %d: %q", out[i], i, out)
	}
}

func TestPrintOnATerminal(t *testing.T) {
	at := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	lines := []api.Line{
		{ID: 7, Time: at, Source: "app", Dyno: "web.1", Message: "Started GET \"/\" café"},
		{ID: 8, Time: at, Source: "app", Dyno: "web.1", Message: "\x1b]0;owned\x07\x1b[2Jhi\rX\nfake heroku[router]: at=info\u202e\x9b\x7f\u009b"},
		{ID: 9, Received: at, Malformed: true, Message: "<13>\x1b[31m\xff"},
	}
	raw := []string{
		"2024-05-01T10:00:00.000000+00:00 app[web.1]: Started GET \"/\" café\n",
		"2024-05-01T10:00:00.000000+00:00 app[web.1]: \x1b]0;owned\x07\x1b[2Jhi\rX\nfake heroku[router]: at=info\u202e\x9b\x7f\u009b\n",
		"2024-05-01T10:00:00.000000+00:00 drainpipe[malformed]: <13>\x1b[31m\xff\n",
	}
	escaped := []string{
		raw[0],
		`2024-05-01T10:00:00.000000+00:00 app[web.1]: \x1b]0;owned\a\x1b[2Jhi\rX\nfake heroku[router]: at=info\u202e\x9b\x7f\u009b` + "\n",
		`2024-05-01T10:00:00.000000+00:00 drainpipe[malformed]: <13>\x1b[31m\xff` + "\n",
	}
	join := func(ls []string, ids bool) string {
		var s string
		for i, l := range ls {
			if ids {
				s += strconv.FormatInt(lines[i].ID, 10) + " "
			}
			s += l
		}
		return s
	}
	var asJSON []byte
	for i := range lines {
		asJSON = api.AppendJSON(asJSON, &lines[i])
	}
	for _, c := range []struct {
		name                string
		asJSON, ids, onTerm bool
		want                string
	}{
		{"text to a file stays byte for byte", false, false, false, join(raw, false)},
		{"text to a terminal is escaped", false, false, true, join(escaped, false)},
		{"ids to a file", false, true, false, join(raw, true)},
		{"ids to a terminal", false, true, true, join(escaped, true)},
		{"JSON to a file", true, false, false, string(asJSON)},
		// JSON escapes C0 controls itself; DEL, C1 and bidi controls are
		// escaped here, and the value stays the same.
		{"JSON to a terminal", true, false, true, strings.NewReplacer("\u202e", `\u202e`, "\x7f", `\u007f`, "\u009b", `\u009b`).Replace(string(asJSON))},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			p := newTextPrinter(&out, c.asJSON, c.ids, c.onTerm)
			for _, l := range lines {
				if err := p.print(l); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.flush(); err != nil {
				t.Fatal(err)
			}
			if out.String() != c.want {
				t.Errorf("printed\n%q\nwant\n%q", out.String(), c.want)
			}
		})
	}
}

// --json on a terminal holds nothing a terminal acts on, and is the same JSON
// value; to a file it is what json.Encoder writes.
func TestWriteJSONOnATerminal(t *testing.T) {
	var all []byte
	for b := 0; b < 256; b++ {
		all = append(all, byte(b), 'x')
	}
	for _, r := range "\u0085\u009b\u061c\u200e\u200f\u202a\u202e\u2066\u2069 café 日本" {
		all = append(all, string(r)...)
	}
	v := api.Line{ID: 1, App: "a\u202eb", Message: string(all)}
	var file, screen bytes.Buffer
	if err := writeJSONTo(&file, v, false); err != nil {
		t.Fatal(err)
	}
	if err := writeJSONTo(&screen, v, true); err != nil {
		t.Fatal(err)
	}
	var enc bytes.Buffer
	if err := json.NewEncoder(&enc).Encode(v); err != nil {
		t.Fatal(err)
	}
	if file.String() != enc.String() {
		t.Errorf("to a file:\n%q\nwant json.Encoder's\n%q", file.String(), enc.String())
	}
	out := strings.TrimSuffix(screen.String(), "\n")
	if i := firstUnsafe([]byte(out)); i >= 0 {
		t.Fatalf("on a terminal the JSON still holds %q at %d: %q", out[i], i, out)
	}
	var fromFile, fromScreen api.Line
	if err := json.Unmarshal(file.Bytes(), &fromFile); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(screen.Bytes(), &fromScreen); err != nil {
		t.Fatalf("the terminal's JSON does not parse: %v\n%q", err, out)
	}
	if fromScreen != fromFile {
		t.Errorf("the terminal's JSON is another value:\n%+v\nwant\n%+v", fromScreen, fromFile)
	}
}

// context puts "> " or "  " before each line: escaping a line leaves what
// came before it in the buffer alone, and plain lines are not copied.
func TestPrintOnATerminalAfterAPrefix(t *testing.T) {
	at := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	p := newTextPrinter(&out, false, false, true)
	p.buf = append(p.buf, "  "...)
	_ = p.print(api.Line{Time: at, Source: "heroku", Dyno: "router", Message: "at=info"})
	if p.spare != nil {
		t.Errorf("a line with nothing to escape was copied")
	}
	p.buf = append(p.buf, "> "...)
	_ = p.print(api.Line{Time: at, Source: "app", Dyno: "web.1", Message: "\x1b[1A"})
	_ = p.flush()
	want := "  2024-05-01T10:00:00.000000+00:00 heroku[router]: at=info\n" +
		`> 2024-05-01T10:00:00.000000+00:00 app[web.1]: \x1b[1A` + "\n"
	if out.String() != want {
		t.Errorf("printed\n%q\nwant\n%q", out.String(), want)
	}
}

// Only a terminal is one: not a buffer, a file, or /dev/null (a character
// device, which os.ModeCharDevice would take for one).
func TestIsTerminalOutput(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for name, w := range map[string]io.Writer{"buffer": &bytes.Buffer{}, "file": f, "/dev/null": null} {
		if isTerminal(w) {
			t.Errorf("%s taken for a terminal", name)
		}
	}
}

// export on a terminal: its JSON lines, however the stream is cut into
// writes, print as tail prints them, escaped, a message's own newline as \n.
func TestJSONLinePrinter(t *testing.T) {
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	var in []byte
	for _, msg := range []string{"plain", "forged\n2026-11-29T10:00:00.000000+00:00 heroku[router]: at=info", "\x1b]0;title\a"} {
		in = api.AppendJSON(in, &api.Line{Time: at, Source: "app", Dyno: "web.1", Message: msg}) // one line each
	}
	want := "2026-11-29T10:00:00.000000+00:00 app[web.1]: plain\n" +
		`2026-11-29T10:00:00.000000+00:00 app[web.1]: forged\n2026-11-29T10:00:00.000000+00:00 heroku[router]: at=info` + "\n" +
		`2026-11-29T10:00:00.000000+00:00 app[web.1]: \x1b]0;title\a` + "\n"
	for _, cut := range []int{0, 1, 40, len(in) / 2, len(in) - 1, len(in)} {
		var out bytes.Buffer
		j := &jsonLinePrinter{p: newTextPrinter(&out, false, false, true)}
		for _, part := range [][]byte{in[:cut], in[cut:]} {
			if n, err := j.Write(part); n != len(part) || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
		}
		if err := j.Flush(); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Errorf("cut at %d:\n%s\nwant\n%s", cut, out.String(), want)
		}
	}
	j := &jsonLinePrinter{p: newTextPrinter(io.Discard, false, false, true)}
	if _, err := j.Write(in[:10]); err != nil || j.Flush() == nil {
		t.Errorf("a stream cut inside a line: Flush = nil, want an error")
	}
}

func BenchmarkPrintOnATerminal(b *testing.B) {
	l := api.Line{Time: time.Now(), Source: "heroku", Dyno: "router", Message: `at=info method=GET path="/api/items?page=2" host=example.herokuapp.com request_id=5e1b2f6c fwd="203.0.113.9" dyno=web.1 connect=0ms service=12ms status=200 bytes=1532 protocol=https`}
	for _, onTerm := range []bool{false, true} {
		name := "file"
		if onTerm {
			name = "terminal"
		}
		b.Run(name, func(b *testing.B) {
			p := newTextPrinter(io.Discard, false, false, onTerm)
			b.ReportAllocs()
			for range b.N {
				_ = p.print(l)
			}
		})
	}
}

func TestTableCell(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"code=H12,dyno=web.1", "code=H12,dyno=web.1"},
		{"path=/café", "path=/café"},
		{"user=a\tb", `user=a\tb`},
		{"user=\x1b]0;owned\x07", `user=\x1b]0;owned\a`},
		{"user=x\nresolved   (whole rule)", `user=x\nresolved   (whole rule)`},
		{"user=\u202eevil", `user=\u202eevil`},
	} {
		if got := tableCell(c.in); got != c.want {
			t.Errorf("tableCell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// An alert's groups are values from the logs: in `alerts list` they cannot
// drive the terminal, add a line, or break the columns.
func TestAlertDetailsEscaped(t *testing.T) {
	hostile := "user=\x1b[2J\x1b]0;owned\x07\nweb.1 firing\t\u009b"
	st := api.AlertStatus{
		Rule:      api.AlertRule{Name: "r"},
		Groups:    []api.AlertGroup{{Label: hostile, State: "firing", Value: 3}},
		LastError: "search: \x1b[31mfailed",
		Outbox:    []api.AlertPending{{Event: "firing", Destination: "webhook", LastError: "HTTP 500: \r\x1b[1A"}},
	}
	var out bytes.Buffer
	printAlertDetails(&out, st)
	text := out.String()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 5 { // a blank line, the rule's name, the group, the error, the outbox
		t.Errorf("printed %d lines, want 5: %q", len(lines), text)
	}
	for _, l := range lines {
		if i := firstUnsafe([]byte(l)); i >= 0 || strings.Contains(l, "\t") {
			t.Errorf("line %q holds a control character", l)
		}
	}
	if !strings.Contains(text, `user=\x1b[2J\x1b]0;owned\a\nweb.1 firing\t\u009b firing, value 3`) {
		t.Errorf("the group is not shown escaped: %q", text)
	}
}

// A rule without groups that is still firing at the end of a backtest says so
// (it printed "firing at the end: ." for its group's empty label).
func TestBacktestStillFiring(t *testing.T) {
	for _, c := range []struct {
		still []string
		want  string
	}{
		{nil, "firing at the end: none."},
		{[]string{""}, "firing at the end: (whole rule)."},
		{[]string{"code=H12", "code=\x1b[2J"}, `firing at the end: code=H12, code=\x1b[2J.`},
	} {
		var out bytes.Buffer
		if err := printBacktest(&out, api.AlertBacktest{Rule: "h12", StillFiring: c.still}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), c.want) {
			t.Errorf("still firing %q: printed %q, want %q", c.still, out.String(), c.want)
		}
	}
}
