package main_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/cloudwatch/cwlemu"
)

// awsEnv points the server's AWS SDK at the emulator, as AWS users point theirs
// at any endpoint.
func awsEnv(url string) []string {
	return []string{"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=" + url, "AWS_REGION=eu-west-1",
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_PROFILE=", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true"}
}

func startEmulator(t testing.TB, f cwlemu.Faults) (*cwlemu.Server, string) {
	t.Helper()
	emu := cwlemu.New(cwlemu.Options{Seed: 1})
	emu.SetFaults(f)
	url, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	return emu, url
}

// cloudwatchLines returns every event of app's group, across its streams.
func cloudwatchLines(emu *cwlemu.Server, group string) []string {
	var out []string
	for _, g := range emu.Groups() {
		if g.Name != group {
			continue
		}
		for _, st := range g.Streams {
			for _, e := range emu.Events(group, st) {
				out = append(out, e.Message)
			}
		}
	}
	return out
}

// waitCloudWatch waits until group holds at least n events.
func waitCloudWatch(t *testing.T, emu *cwlemu.Server, group string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		got := cloudwatchLines(emu, group)
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitCloudWatchAll waits until group holds every line of want (messages as the
// app logged them), however many times, and returns every event. A count cannot
// tell when lines may arrive twice: copies would stand in for lines still coming.
func waitCloudWatchAll(t *testing.T, emu *cwlemu.Server, group string, want map[string]bool) []string {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		got := cloudwatchLines(emu, group)
		seen := make(map[string]bool, len(got))
		for _, m := range got {
			seen[strings.TrimPrefix(m, "app[web.1]: ")] = true
		}
		all := true
		for text := range want {
			if !seen[text] {
				all = false
				break
			}
		}
		if all || time.Now().After(deadline) {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitCloudWatchFor waits until group holds the event msg, and returns every event.
func waitCloudWatchFor(t *testing.T, emu *cwlemu.Server, group, msg string) []string {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		got := cloudwatchLines(emu, group)
		if slices.Contains(got, msg) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q not in %s after 90 s (%d events)", msg, group, len(got))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCloudWatchUnderFaults runs the real server with --cloudwatch against the
// emulator answering 30% of calls with throttling and 10% with 5xx: every
// acknowledged line arrives exactly once, formatted like `heroku logs`, in its
// app's group, with no Describe call.
func TestCloudWatchUnderFaults(t *testing.T) {
	t.Parallel()
	emu, url := startEmulator(t, cwlemu.Faults{ThrottleRate: 0.3, ServerErrorRate: 0.1})
	s := startServerEnv(t, "", awsEnv(url), "--cloudwatch", "--cloudwatch-retention-days", "30")
	u := s.addDrain("cwapp")
	// 60,000 lines: at least six PutLogEvents (10,000 events each) and their
	// streams' creations, however the journal groups them into deliveries, so
	// that 40% faults cannot all miss.
	acked := startLoaderN(u, 2, 50, 600).wait()
	got := waitCloudWatch(t, emu, "/heroku/cwapp", len(acked))
	seen := map[string]int{}
	for _, m := range got {
		text, ok := strings.CutPrefix(m, "app[web.1]: ")
		if !ok {
			t.Fatalf("event %q is not in `app[web.1]: message` form", m)
		}
		seen[text]++
	}
	for text := range acked {
		if seen[text] != 1 {
			t.Fatalf("line %q arrived %d times in CloudWatch, want once (%d acked, %d events)", text, seen[text], len(acked), len(got))
		}
	}
	for text, n := range seen {
		// Lines the loader stopped waiting for may be stored too; none twice.
		if n > 1 {
			t.Fatalf("line %q arrived %d times", text, n)
		}
	}
	calls := emu.Calls()
	if calls["DescribeLogStreams"]+calls["DescribeLogGroups"] != 0 {
		t.Fatalf("the sink called Describe*: %v", calls)
	}
	for _, g := range emu.Groups() {
		if g.Name == "/heroku/cwapp" && g.RetentionDays != 30 {
			t.Fatalf("group retention %d, want 30", g.RetentionDays)
		}
	}
	if s.metric("drainpipe_sink_retries_total", `sink="cloudwatch"`) == 0 {
		t.Error("no retries counted under 40% faults")
	}
	t.Logf("%d lines delivered exactly once; calls %v", len(acked), calls)
}

// TestCloudWatchRejectedLinesAreCounted posts Heroku's fixture lines, all years
// old: CloudWatch rejects them as too old; they are counted, never reported
// delivered, and stay findable in the archive.
func TestCloudWatchRejectedLinesAreCounted(t *testing.T) {
	t.Parallel()
	emu, url := startEmulator(t, cwlemu.Faults{})
	s := startServerEnv(t, "", awsEnv(url), "--cloudwatch")
	u := s.addDrain("oldlines")
	if code := post(t, u, bytes.NewReader(readFixture(t, "heroku-drain-realistic.logplex")), logplexHeaders); code != 204 {
		t.Fatalf("status %d", code)
	}
	deadline := time.Now().Add(60 * time.Second)
	for s.metric("drainpipe_sink_rejected_lines_total", `sink="cloudwatch"`, `reason="too_old"`) < 38 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := s.metric("drainpipe_sink_rejected_lines_total", `sink="cloudwatch"`, `reason="too_old"`); n != 38 {
		t.Fatalf("rejected too_old = %v, want 38", n)
	}
	if n := len(cloudwatchLines(emu, "/heroku/oldlines")); n != 0 {
		t.Fatalf("%d too-old lines stored in CloudWatch", n)
	}
	if got := s.waitLines("oldlines", 38); len(got) != 38 {
		t.Fatalf("archive holds %d of the rejected lines, want 38", len(got))
	}
}

// TestCloudWatchOutageAndRestart takes CloudWatch down, keeps sending, restarts
// drainpipe mid-outage, brings CloudWatch back: every line arrives once, and the
// lag was visible meanwhile.
func TestCloudWatchOutageAndRestart(t *testing.T) {
	t.Parallel()
	emu, url := startEmulator(t, cwlemu.Faults{Down: true})
	dir := t.TempDir()
	s := startServerEnv(t, dir, awsEnv(url), "--cloudwatch")
	u := s.addDrain("outage")
	l := startLoaderN(u, 4, 50, 100) // 20,000 lines
	waitMetric(t, s, "drainpipe_sink_lag_seconds", `sink="cloudwatch"`, 0.5)
	acked := l.wait()
	s.kill()
	s.start()
	emu.SetFaults(cwlemu.Faults{})
	// The sink delivers in journal order: once the closing marker is in CloudWatch,
	// every line before it is too, and so is any duplicate.
	marker := s.closingMarker(u, "outage")
	got := waitCloudWatchFor(t, emu, "/heroku/outage", "app[web.1]: "+marker)
	if len(got) < len(acked)+1 {
		t.Fatalf("%d of %d lines in CloudWatch after the outage", len(got)-1, len(acked))
	}
	seen := map[string]int{}
	for _, m := range got {
		seen[strings.TrimPrefix(m, "app[web.1]: ")]++
	}
	for text := range acked {
		if seen[text] == 0 {
			t.Fatalf("line %q lost in the outage", text)
		}
	}
	for text, n := range seen {
		// A duplicate is possible only for a crash between a put and the journal
		// ack; a SIGKILL while CloudWatch is down leaves none.
		if n > 1 {
			t.Errorf("line %q arrived %d times after a restart during an outage", text, n)
		}
	}
	if lag := s.metric("drainpipe_sink_lag_seconds", `sink="cloudwatch"`); lag > 5 {
		t.Errorf("cloudwatch lag %v after recovery", lag)
	}
}
