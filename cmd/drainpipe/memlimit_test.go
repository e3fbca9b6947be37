package main

import (
	"io"
	"math"
	"runtime/debug"
	"testing"
)

// TestChooseMemoryLimit: the flag wins, then GOMEMLIMIT (as the runtime read
// it), then the default; "off" and 0 mean none; a size that does not parse is a
// usage error.
func TestChooseMemoryLimit(t *testing.T) {
	runtimeLimit := debug.SetMemoryLimit(-1) // what GOMEMLIMIT gave this process
	for _, tt := range []struct {
		flag, env string
		want      memoryLimit
		shown     string
	}{
		{"", "", memoryLimit{160 << 20, "default"}, "160MiB"},
		{"", "300MiB", memoryLimit{runtimeLimit, "GOMEMLIMIT"}, ""},
		{"768MiB", "300MiB", memoryLimit{768 << 20, "--memory-limit"}, "768MiB"},
		{"off", "300MiB", memoryLimit{math.MaxInt64, "--memory-limit"}, "off"},
		{"0", "", memoryLimit{math.MaxInt64, "--memory-limit"}, "off"},
		{" 128MiB ", "", memoryLimit{128 << 20, "--memory-limit"}, "128MiB"},
	} {
		got, err := chooseMemoryLimit(tt.flag, tt.env)
		if err != nil || got != tt.want {
			t.Errorf("chooseMemoryLimit(%q, GOMEMLIMIT=%q) = %+v, %v; want %+v", tt.flag, tt.env, got, err, tt.want)
		}
		if tt.shown != "" && got.String() != tt.shown {
			t.Errorf("chooseMemoryLimit(%q).String() = %q, want %q", tt.flag, got.String(), tt.shown)
		}
	}
	for _, bad := range []string{"lots", "-1", "1.5GiB"} {
		if _, err := chooseMemoryLimit(bad, ""); err == nil {
			t.Errorf("--memory-limit %q accepted", bad)
		}
	}
}

// TestBodiesInFlightFollowTheMemoryLimit: --max-body-in-flight, unless given, is
// a 40th of the memory limit, between 1 and 32 MiB.
func TestBodiesInFlightFollowTheMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("DRAINPIPE_MAX_BODY_IN_FLIGHT", "")
	t.Setenv("DRAINPIPE_MEMORY_LIMIT", "")
	for _, tt := range []struct {
		args []string
		want int64
	}{
		{nil, 4 << 20},
		{[]string{"--memory-limit", "512MiB"}, 512 << 20 / 40},
		{[]string{"--memory-limit", "20MiB"}, 1 << 20},
		{[]string{"--memory-limit", "off"}, 32 << 20},
		{[]string{"--memory-limit", "4GiB"}, 32 << 20},
		{[]string{"--max-body-in-flight", "64MiB"}, 64 << 20},
		{[]string{"--memory-limit", "off", "--max-body-in-flight", "2MiB"}, 2 << 20},
	} {
		c, err := serveFlags(append([]string{"--data", t.TempDir()}, tt.args...), io.Discard)
		if err != nil {
			t.Fatalf("serve %q: %v", tt.args, err)
		}
		if c.maxBodyInFlight != tt.want {
			t.Errorf("serve %q: max body in flight %d, want %d", tt.args, c.maxBodyInFlight, tt.want)
		}
	}
}
