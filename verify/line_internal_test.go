package verify

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe/internal/testfixtures"
)

const testRun = "0123456789abcdef"

func TestParseLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg      string
		id, half int
		ok       bool
	}{
		{"drainpipe-verify " + testRun + " 1 begin", 1, begin, true},
		{"drainpipe-verify " + testRun + " 600 end", 600, end, true},
		{"app[verify.3]: drainpipe-verify " + testRun + " 42 end", 42, end, true},
		{`{"message":"drainpipe-verify ` + testRun + ` 42 begin","dyno":"verify.1"}`, 42, begin, true},
		{"drainpipe-verify " + testRun + " 999999999 end", 999999999, end, true},
		{"drainpipe-verify " + testRun + " 7 end\r", 7, end, true},
		// A first mention that does not parse does not hide a second that does.
		{"drainpipe-verify " + testRun + " x drainpipe-verify " + testRun + " 9 begin", 9, begin, true},
		{"drainpipe-verify " + testRun + " 1000000000 end", 0, 0, false}, // too many digits
		{"drainpipe-verify " + testRun + " 0 begin", 0, 0, false},
		{"drainpipe-verify " + testRun + " 01 begin", 0, 0, false},
		{"drainpipe-verify " + testRun + " -1 begin", 0, 0, false},
		{"drainpipe-verify " + testRun + " 1 beginning", 0, 0, false},
		{"drainpipe-verify " + testRun + " 1 end2", 0, 0, false},
		{"drainpipe-verify " + testRun + " 1 middle", 0, 0, false},
		{"drainpipe-verify " + testRun + " 1", 0, 0, false},
		{"drainpipe-verify " + testRun + " 12", 0, 0, false},
		{"drainpipe-verify " + testRun + "  1 end", 0, 0, false},
		{"drainpipe-verify fedcba9876543210 1 end", 0, 0, false}, // another run
		{"drainpipe-verify " + testRun + "00 1 end", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		id, half, ok := parseLine(tt.msg, testRun)
		if id != tt.id || half != tt.half || ok != tt.ok {
			t.Errorf("parseLine(%q) = %d, %d, %v; want %d, %d, %v", tt.msg, id, half, ok, tt.id, tt.half, tt.ok)
		}
	}
}

// FuzzParseLine checks that any message, with or without a line of the run in it,
// parses without a panic, that whatever parses is a line the run could have sent,
// and that a line of the run is found whatever surrounds it.
func FuzzParseLine(f *testing.F) {
	for _, s := range fixtureLines(f) {
		f.Add(s, 1, true)
	}
	f.Add("app[verify.1]: ", 600, false)
	f.Add(`{"message":"`, 12, true)
	f.Add("drainpipe-verify "+testRun+" ", 0, false)
	f.Fuzz(func(t *testing.T, prefix string, id int, isEnd bool) {
		if got, half, ok := parseLine(prefix, testRun); ok {
			if got < 1 || got > 999_999_999 || !strings.Contains(prefix, line(testRun, got, half)) {
				t.Fatalf("parseLine(%q) = %d, %d: not a line of the run", prefix, got, half)
			}
		}
		if id < 1 || id > MaxCount || strings.Contains(prefix, marker) {
			return
		}
		half := begin
		if isEnd {
			half = end
		}
		for _, suffix := range []string{"", "\r", `"}`, " more"} {
			msg := prefix + line(testRun, id, half) + suffix
			if gotID, gotHalf, ok := parseLine(msg, testRun); !ok || gotID != id || gotHalf != half {
				t.Fatalf("parseLine(%q) = %d, %d, %v; want %d, %d", msg, gotID, gotHalf, ok, id, half)
			}
		}
	})
}

// fixtureLines are the messages of the realistic Heroku fixture, one per line.
func fixtureLines(f *testing.F) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(testfixtures.Read(f, "heroku-drain-realistic.lines.txt")))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		f.Fatal(err)
	}
	return out
}
