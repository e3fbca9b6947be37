package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
)

// sseEvent is one Server-Sent Event, or a comment (a heartbeat).
type sseEvent struct {
	id, name, data, comment string
	hasID                   bool
}

// readSSE reads events from a stream into ch until it ends.
func readSSE(sc *bufio.Scanner, ch chan<- sseEvent) {
	defer close(ch)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.hasID || ev.data != "" || ev.comment != "" {
				ch <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
			ev.comment = strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "id: "):
			ev.id, ev.hasID = line[4:], true
		case strings.HasPrefix(line, "event: "):
			ev.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
}

// openStream opens the live tail of app, resuming after lastID when it is not empty.
func openStream(t testing.TB, ctx context.Context, c *http.Client, base, query, lastID string) (*http.Response, chan sseEvent) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/ui/stream?"+query, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" ||
		resp.Header.Get("X-Accel-Buffering") != "no" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("stream: %d %v", resp.StatusCode, resp.Header)
	}
	ch := make(chan sseEvent, 1000)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	go readSSE(sc, ch)
	return resp, ch
}

// TestUIStreamResumesWithLastEventID cuts a live tail in the middle of a flow of
// numbered lines and resumes it with Last-Event-ID: every line arrives once, in
// order; then the quiet stream sends a heartbeat.
func TestUIStreamResumesWithLastEventID(t *testing.T) {
	t.Parallel()
	s := startUIServer(t)
	drainURL := s.addDrain("streamapp")
	jar, _ := s.sessionClient(t)
	c := &http.Client{Jar: jar.Jar} // no timeout: a stream is long
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	const total = 600
	sent := make(chan struct{})
	resp, events := openStream(t, ctx, c, s.url, "app=streamapp", "")
	go func() {
		defer close(sent)
		for i := 0; i < total; i += 50 {
			var recs []drainpipe.Record
			for n := i; n < i+50; n++ {
				recs = append(recs, rec(time.Now(), "app", "web.1", 190, fmt.Sprintf("line n=%d", n)))
			}
			sendRecords(t, drainURL, recs)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	seen := map[int]int{}
	var lastID string
	var prevID int64
	take := func(ev sseEvent) {
		if ev.hasID {
			id, err := strconv.ParseInt(ev.id, 10, 64)
			if err != nil || id <= prevID {
				t.Fatalf("event id %q after %d", ev.id, prevID)
			}
			prevID, lastID = id, ev.id
		}
		if ev.name != "" || ev.data == "" {
			return
		}
		var l struct{ Message string }
		if err := json.Unmarshal([]byte(ev.data), &l); err != nil {
			t.Fatalf("event data %q: %v", ev.data, err)
		}
		n, err := strconv.Atoi(strings.TrimPrefix(l.Message, "line n="))
		if err != nil {
			t.Fatalf("line %q", l.Message)
		}
		seen[n]++
	}
	for len(seen) < total/3 {
		ev, ok := <-events
		if !ok {
			t.Fatalf("the stream ended after %d lines", len(seen))
		}
		take(ev)
	}
	resp.Body.Close() // the connection drops
	for range events {
	}
	t.Logf("cut after %d lines, at id %s", len(seen), lastID)

	resp, events = openStream(t, ctx, c, s.url, "app=streamapp", lastID)
	defer resp.Body.Close()
	for len(seen) < total {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("the resumed stream ended after %d lines", len(seen))
			}
			take(ev)
		case <-ctx.Done():
			t.Fatalf("%d of %d lines after a minute", len(seen), total)
		}
	}
	<-sent
	for n := range total {
		if seen[n] != 1 {
			t.Errorf("line %d arrived %d times", n, seen[n])
		}
	}
	// Nothing more comes: the stream says it is alive within its 15 s heartbeat.
	deadline := time.After(25 * time.Second)
	for {
		select {
		case ev := <-events:
			take(ev)
			if ev.comment == "heartbeat" {
				if len(seen) != total {
					t.Errorf("%d lines after the end", len(seen))
				}
				return
			}
		case <-deadline:
			t.Fatal("no heartbeat in 25 s")
		}
	}
}

// BenchmarkUIStream measures the live tail's stream on its own, without a
// browser: lines a second from the drain's 2xx to a reader of /ui/stream, with
// sampling off (--ui-tail-rate 10000000). Each iteration posts 10,000 lines in
// batches of 500 and waits until the stream has sent them all.
//
//	go test -run '^$' -bench BenchmarkUIStream -benchtime 5x ./cmd/drainpipe/
func BenchmarkUIStream(b *testing.B) {
	s := startUIServer(b, "--ui-tail-rate", "10000000")
	drainURL := s.addDrain("benchapp")
	jar, _ := s.sessionClient(b)
	c := &http.Client{Jar: jar.Jar}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, events := openStream(b, ctx, c, s.url, "app=benchapp", "")
	defer resp.Body.Close()
	const perIter = 10_000
	recs := make([]drainpipe.Record, perIter)
	b.ResetTimer()
	for range b.N {
		for i := range recs {
			recs[i] = rec(time.Now(), "app", "web.1", 190, fmt.Sprintf("at=info method=GET path=/api/v1/orders/%d status=200 service=12ms", i))
		}
		sendRecords(b, drainURL, recs)
		for n := 0; n < perIter; {
			ev, ok := <-events
			if !ok {
				b.Fatal("the stream ended")
			}
			if ev.data != "" && ev.name == "" {
				n++
			}
		}
	}
	b.ReportMetric(float64(b.N*perIter)/b.Elapsed().Seconds(), "lines/s")
}
