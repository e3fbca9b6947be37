package logfmt_test

import (
	"bufio"
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe/internal/testfixtures"
	"github.com/drainpipe/drainpipe/logfmt"
)

type P = logfmt.Pair

func TestPairs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		line string
		want []P
	}{
		{"empty", "", nil},
		{"spaces only", " \t ", nil},
		{"simple", "a=1 b=2", []P{{"a", "1"}, {"b", "2"}}},
		{"router", `at=info method=GET path="/" fwd="1.2.3.4,5.6.7.8" dyno=web.1 connect=0ms`,
			[]P{{"at", "info"}, {"method", "GET"}, {"path", "/"}, {"fwd", "1.2.3.4,5.6.7.8"}, {"dyno", "web.1"}, {"connect", "0ms"}}},
		{"quoted with spaces", `desc="Request timeout" code=H12`, []P{{"desc", "Request timeout"}, {"code", "H12"}}},
		{"escaped quote", `msg="say \"hi\" now" x=1`, []P{{"msg", `say "hi" now`}, {"x", "1"}}},
		{"escaped backslash before quote", `p="a\\" q=2`, []P{{"p", `a\`}, {"q", "2"}}},
		{"other backslash kept", `p="C:\path\n" q=2`, []P{{"p", `C:\path\n`}, {"q", "2"}}},
		{"empty values", "dyno= connect= service= status=503 bytes=",
			[]P{{"dyno", ""}, {"connect", ""}, {"service", ""}, {"status", "503"}, {"bytes", ""}}},
		{"empty quoted", `a="" b=1`, []P{{"a", ""}, {"b", "1"}}},
		{"bare key", "Cycling", []P{{"Cycling", ""}}},
		{"bare keys and pair", "Process running mem=528MB(103.3%)",
			[]P{{"Process", ""}, {"running", ""}, {"mem", "528MB(103.3%)"}}},
		{"unterminated quote", `a=1 msg="no end here b=2`, []P{{"a", "1"}, {"msg", "no end here b=2"}}},
		{"unterminated quote with escape", `msg="x \" y`, []P{{"msg", `x " y`}}},
		{"trailing backslash in open quote", `msg="x\`, []P{{"msg", `x\`}}},
		{"duplicates kept in order", "a=1 a=2 b=3 a=", []P{{"a", "1"}, {"a", "2"}, {"b", "3"}, {"a", ""}}},
		{"value with equals", "a==b c=d=e", []P{{"a", "=b"}, {"c", "d=e"}}},
		{"keyless value skipped", "=junk a=1 =\"x y=2\" b=3", []P{{"a", "1"}, {"b", "3"}}},
		{"lone quoted string skipped", `"not=pair" a=1`, []P{{"a", "1"}}},
		{"quote ends key", `foo"bar=1" a=2`, []P{{"foo", ""}, {"a", "2"}}},
		{"garbage between pairs", "a=1 | [GIN] ||| b=2", []P{{"a", "1"}, {"|", ""}, {"[GIN]", ""}, {"|||", ""}, {"b", "2"}}},
		{"non-ASCII", "naïve=café ключ=значение", []P{{"naïve", "café"}, {"ключ", "значение"}}},
		{"invalid UTF-8", "a=\xff\xfe b\x80=1", []P{{"a", "\xff\xfe"}, {"b\x80", "1"}}},
		{"tabs and control bytes", "a=1\tb=2\x00c=3\r\n", []P{{"a", "1"}, {"b", "2"}, {"c", "3"}}},
		{"quoted value glued to next", `a="x"b=1`, []P{{"a", "x"}, {"b", "1"}}},
		{"l2met", "measure#db.latency=4ms count#db.vacuum=1 sample#db.size=100GB source=prod",
			[]P{{"measure#db.latency", "4ms"}, {"count#db.vacuum", "1"}, {"sample#db.size", "100GB"}, {"source", "prod"}}},
		{"negative", "sample#x=-1.5", []P{{"sample#x", "-1.5"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := logfmt.Pairs(tt.line)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Pairs(%q)\n got %q\nwant %q", tt.line, got, tt.want)
			}
		})
	}
}

// TestEveryByte holds each of the 256 byte values to the documented rules, inside a
// key and inside a value, so a faster scanner cannot quietly reclassify one.
func TestEveryByte(t *testing.T) {
	t.Parallel()
	for c := range 256 {
		b := string([]byte{byte(c)})
		sep := c <= ' ' || c == 0x7f
		var wantKey, wantValue []P
		switch {
		case sep:
			wantKey = []P{{"k", ""}, {"j", "1"}}
			wantValue = []P{{"a", "x"}, {"y", ""}}
		case c == '=':
			wantKey = []P{{"k", "j=1"}}
		case c == '"':
			wantKey = []P{{"k", ""}}
		default:
			wantKey = []P{{"k" + b + "j", "1"}}
		}
		if !sep {
			wantValue = []P{{"a", "x" + b + "y"}}
		}
		if got := logfmt.Pairs("k" + b + "j=1"); !reflect.DeepEqual(got, wantKey) {
			t.Errorf("byte %#x in a key: got %q, want %q", c, got, wantKey)
		}
		if got := logfmt.Pairs("a=x" + b + "y"); !reflect.DeepEqual(got, wantValue) {
			t.Errorf("byte %#x in a value: got %q, want %q", c, got, wantValue)
		}
	}
}

func TestScanStops(t *testing.T) {
	t.Parallel()
	var keys []string
	logfmt.Scan("a=1 b=2 c=3", func(k, _ string) bool {
		keys = append(keys, k)
		return k != "b"
	})
	if want := []string{"a", "b"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("keys = %q, want %q", keys, want)
	}
}

func TestScanDoesNotAllocate(t *testing.T) {
	line := fixtureLines(t)[0]
	n := 0
	allocs := testing.AllocsPerRun(100, func() {
		logfmt.Scan(line, func(k, v string) bool {
			n += len(k) + len(v)
			return true
		})
	})
	if allocs != 0 {
		t.Errorf("Scan allocated %v times per router line, want 0", allocs)
	}
}

// encode writes pairs back as canonical logfmt, quoting whatever needs it.
func encode(pairs []P) string {
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.Key)
		b.WriteByte('=')
		if !strings.ContainsFunc(p.Value, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '"' || r == '\\' }) {
			b.WriteString(p.Value)
			continue
		}
		b.WriteByte('"')
		for i := 0; i < len(p.Value); i++ {
			if c := p.Value[i]; c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(p.Value[i])
		}
		b.WriteByte('"')
	}
	return b.String()
}

func FuzzScan(f *testing.F) {
	for _, line := range fixtureLines(f) {
		f.Add(line)
	}
	for _, s := range []string{`a="b \" c`, `=x "y" z=`, "a=\xff", `k="\\\"`, `"`, `=`, `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		pairs := logfmt.Pairs(line)
		for _, p := range pairs {
			if p.Key == "" || strings.ContainsAny(p.Key, "=\" \t\n") {
				t.Fatalf("bad key %q in %q", p.Key, line)
			}
			if !strings.Contains(line, p.Key) {
				t.Fatalf("key %q is not from line %q", p.Key, line)
			}
		}
		if want := referencePairs(line); len(pairs) != len(want) || (len(pairs) > 0 && !reflect.DeepEqual(pairs, want)) {
			t.Fatalf("Pairs(%q)\n got %q\nwant %q (byte-at-a-time reference)", line, pairs, want)
		}
		// Canonical logfmt reads back as the same pairs.
		again := logfmt.Pairs(encode(pairs))
		if len(pairs) != len(again) || (len(pairs) > 0 && !reflect.DeepEqual(pairs, again)) {
			t.Fatalf("round trip of %q:\n got %q\nwant %q", line, again, pairs)
		}
	})
}

// referencePairs reads line by the package's documented rules one byte at a time,
// as plainly as possible, for FuzzScan to hold the word-at-a-time scanner to.
func referencePairs(line string) []P {
	isSpace := func(c byte) bool { return c <= ' ' || c == 0x7f }
	// quoted returns the string opening at line[i] and the index after it.
	quoted := func(i int) (string, int) {
		var b []byte
		for j := i + 1; j < len(line); j++ {
			switch c := line[j]; {
			case c == '"':
				return string(b), j + 1
			case c == '\\' && j+1 < len(line) && (line[j+1] == '"' || line[j+1] == '\\'):
				j++
				b = append(b, line[j])
			case c == '\\' && j+1 < len(line):
				b = append(b, c, line[j+1])
				j++
			default:
				b = append(b, c)
			}
		}
		return string(b), len(line)
	}
	value := func(i int) (string, int) {
		if i < len(line) && line[i] == '"' {
			return quoted(i)
		}
		start := i
		for i < len(line) && !isSpace(line[i]) {
			i++
		}
		return line[start:i], i
	}
	var pairs []P
	for i := 0; i < len(line); {
		switch c := line[i]; {
		case isSpace(c):
			i++
		case c == '"':
			_, i = quoted(i)
		case c == '=':
			_, i = value(i + 1)
		default:
			start := i
			for i < len(line) && !isSpace(line[i]) && line[i] != '=' && line[i] != '"' {
				i++
			}
			p := P{Key: line[start:i]}
			if i < len(line) && line[i] == '=' {
				p.Value, i = value(i + 1)
			}
			pairs = append(pairs, p)
		}
	}
	return pairs
}

func BenchmarkScan(b *testing.B) {
	lines := fixtureLines(b)
	bytes := 0
	for _, l := range lines {
		bytes += len(l)
	}
	b.SetBytes(int64(bytes / len(lines)))
	n, i := 0, 0
	for ; b.Loop(); i++ {
		logfmt.Scan(lines[i%len(lines)], func(k, v string) bool {
			n += len(v)
			return true
		})
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "lines/s")
}

// fixtureLines returns the messages of the realistic fixture (the text after the
// syslog header's "- ").
func fixtureLines(tb testing.TB) []string {
	tb.Helper()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(testfixtures.Read(tb, "heroku-drain-realistic.lines.txt")))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, " - "); i >= 0 {
			line = line[i+3:]
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return lines
}
