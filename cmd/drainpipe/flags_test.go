package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{"8MiB": 8 << 20, "4GiB": 4 << 30, "100KB": 100_000, "1048576": 1 << 20, "0": 0, "2 MiB": 2 << 20} {
		var b byteSize
		if err := b.Set(in); err != nil || b.n != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, b.n, err, want)
		}
	}
	for _, in := range []string{"", "-1", "MiB", "1.5GiB", "ten"} {
		var b byteSize
		if err := b.Set(in); err == nil {
			t.Errorf("Set(%q) accepted", in)
		}
	}
}

// FuzzByteSize: a size flag either parses to a non-negative number or is refused
// with a message; it never panics.
func FuzzByteSize(f *testing.F) {
	for _, s := range []string{"8MiB", "4GiB", "100KB", "1048576", "-5", "99999999999999999999TiB", "1 B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b byteSize
		if err := b.Set(s); err == nil && b.n < 0 {
			t.Fatalf("Set(%q) = %d", s, b.n)
		}
	})
}

// TestSpan: the duration flags (--retention, --journal-max-age ...) take what
// --since takes, 7d and 2w among them, and refuse a negative length.
func TestSpan(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "720h": 720 * time.Hour, "90s": 90 * time.Second, "1d12h": 36 * time.Hour, "0": 0} {
		var s span
		if err := s.Set(in); err != nil || s.d != want {
			t.Errorf("Set(%q) = %v, %v; want %v", in, s.d, err, want)
		}
	}
	for _, in := range []string{"", "-1h", "-7d", "ten", "7"} {
		var s span
		if err := s.Set(in); err == nil {
			t.Errorf("Set(%q) accepted", in)
		}
	}
}

// TestHelp: every command answers --help with its usage and exit status 0,
// the commands with subcommands too.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"drains", "--help"}, {"drains", "-h"}, {"alerts", "help"},
		{"drains", "add", "--help"}, {"search", "--help"}, {"tail", "-h"}, {"serve", "--help"}} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != 0 || out.Len()+errOut.Len() == 0 {
			t.Errorf("%v: exit %d, %q %q; want 0 and its usage", args, code, out.String(), errOut.String())
		}
	}
}

// TestRetentionZeroRefused: --retention 0 is refused with a sentence, not
// taken silently as the default 30 days.
func TestRetentionZeroRefused(t *testing.T) {
	_, err := serveFlags([]string{"--data", t.TempDir(), "--retention", "0"}, io.Discard)
	var u usageError
	if !errors.As(err, &u) {
		t.Fatalf("--retention 0: %v, want a usage error", err)
	}
	if _, err := serveFlags([]string{"--data", t.TempDir(), "--retention", "7d"}, io.Discard); err != nil {
		t.Errorf("--retention 7d: %v", err)
	}
}

// TestSharedJournalMaxAge: with --nats, a journal age cap shorter than the window
// in which a retried batch is recognised is refused at once, naming the flag
// (NATS would refuse the stream after half a minute of retries).
func TestSharedJournalMaxAge(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"--nats", "nats://127.0.0.1:4222", "--journal-max-age", "5m"}, false},
		{[]string{"--nats", "nats://127.0.0.1:4222", "--journal-max-age", "10m"}, true},
		{[]string{"--journal-max-age", "5m"}, true}, // one node keeps its own de-duplication
	} {
		_, err := serveFlags(append([]string{"--data", t.TempDir()}, tc.args...), io.Discard)
		var u usageError
		switch {
		case tc.ok && err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case !tc.ok && (!errors.As(err, &u) || !strings.Contains(err.Error(), "--journal-max-age 5m0s: with --nats, at least 10m0s")):
			t.Errorf("%v: %v, want a usage error naming the flag", tc.args, err)
		}
	}
}

// TestCloudWatchFlagsWithoutCloudWatch: a --cloudwatch-* flag (or its environment
// variable) with CloudWatch off is refused, naming it, not ignored.
func TestCloudWatchFlagsWithoutCloudWatch(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string // DRAINPIPE_CLOUDWATCH_RETENTION_DAYS
		ok   bool
	}{
		{[]string{"--cloudwatch-retention-days", "30"}, "", false},
		{nil, "30", false},
		{[]string{"--cloudwatch", "--cloudwatch-retention-days", "30"}, "", true},
		{nil, "", true},
	} {
		t.Setenv("DRAINPIPE_CLOUDWATCH_RETENTION_DAYS", tc.env)
		_, err := serveFlags(append([]string{"--data", t.TempDir()}, tc.args...), io.Discard)
		var u usageError
		switch {
		case tc.ok && err != nil:
			t.Errorf("%v (env %q): %v", tc.args, tc.env, err)
		case !tc.ok && (!errors.As(err, &u) || !strings.Contains(err.Error(), "--cloudwatch-retention-days is set, but CloudWatch is off")):
			t.Errorf("%v (env %q): %v, want a usage error naming the flag", tc.args, tc.env, err)
		}
	}
}
