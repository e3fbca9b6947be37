package httpd_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/archive"
	"github.com/drainpipe/drainpipe/httpd"
)

// newTailServer is a test server whose LogsQL API runs on a real archive.
func newTailServer(t *testing.T) (*testServer, *archive.Archive) {
	t.Helper()
	arc := openArchive(t)
	return newTestServer(t, func(c *httpd.Config) { c.LogsQL = arc }), arc
}

// openTail starts GET /select/logsql/tail with args and returns the answer once
// its status is in; the body is read by the caller and closed at the test's end.
func openTail(t *testing.T, base string, args url.Values) *http.Response {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/select/logsql/tail?"+args.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = admin()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	return resp
}

// tailArgs are a tail's arguments: a query, and the read right up to now (offset
// 0), back start_offset.
func tailArgs(query, startOffset string, more ...string) url.Values {
	v := url.Values{"query": {query}, "offset": {"0s"}, "start_offset": {startOffset}}
	for i := 0; i+1 < len(more); i += 2 {
		v.Set(more[i], more[i+1])
	}
	return v
}

// bigLines are n records of msgBytes each.
func bigLines(n, msgBytes int) []drainpipe.Record {
	recs := make([]drainpipe.Record, n)
	for i := range recs {
		recs[i] = drainpipe.Record{App: "myapp", Source: "app", Dyno: "web.1", Priority: 190,
			Message: fmt.Sprintf("%03d %s", i, strings.Repeat("x", msgBytes))}
	}
	return recs
}

// TestTailRefused: a tail's arguments over its caps, and a first refresh that
// fails, get an error answer before any row; arguments within the caps get a
// stream.
func TestTailRefused(t *testing.T) {
	t.Parallel()
	ts, arc := newTailServer(t)
	// 20 lines of 500 KB at one instant: 10 MB, over what a refresh may hold,
	// and no shorter span splits them.
	writeLines(t, arc, 1, bigLines(20, 500<<10)...)
	for _, tt := range []struct {
		name string
		args url.Values
		code int
		says string
	}{
		{"start_offset over 1h", tailArgs("*", "2h"), 400, "'start_offset' must be between 0 and 1h"},
		{"start_offset 100d", tailArgs("*", "100d"), 400, "'start_offset' must be between 0 and 1h"},
		{"start_offset negative", tailArgs("*", "-5s"), 400, "'start_offset'"},
		{"refresh_interval 1ns", tailArgs("nothing", "5s", "refresh_interval", "1ns"), 400, "'refresh_interval' must be at least 1s"},
		{"refresh_interval 500ms", tailArgs("nothing", "5s", "refresh_interval", "500ms"), 400, "'refresh_interval' must be at least 1s"},
		{"refresh_interval 0", tailArgs("nothing", "5s", "refresh_interval", "0s"), 400, "refresh_interval"},
		{"over the byte cap at one instant", tailArgs("*", "1m"), 400, "at one instant"},
		{"no _time", tailArgs("* | fields _msg", "1m"), 400, "no _time"},
		{"start_offset 1h", tailArgs("nothing", "1h"), 200, ""},
		{"refresh_interval 1s", tailArgs("nothing", "5s", "refresh_interval", "1s"), 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := openTail(t, ts.url, tt.args)
			if resp.StatusCode != tt.code {
				t.Fatalf("%d, want %d", resp.StatusCode, tt.code)
			}
			if tt.code == 200 {
				return // a stream, read no further
			}
			b, err := io.ReadAll(resp.Body)
			if err != nil || !strings.Contains(string(b), tt.says) || strings.Contains(string(b), "<nil>") {
				t.Errorf("%q, %v; want it to say %q", b, err, tt.says)
			}
		})
	}
}

// TestTailFailsMidStream: a tail that fails after its status is out is cut, so
// that the client sees an error, never a clean end, and no error as data.
func TestTailFailsMidStream(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		query string
		lines []drainpipe.Record
	}{
		{"no _time", "* | fields _msg", bigLines(1, 10)},
		{"over the byte cap at one instant", "*", bigLines(20, 500<<10)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts, arc := newTailServer(t)
			resp := openTail(t, ts.url, tailArgs(tt.query, "5s"))
			if resp.StatusCode != 200 {
				t.Fatalf("%d before any line, want 200", resp.StatusCode)
			}
			writeLines(t, arc, 1, tt.lines...)
			done := make(chan struct{})
			var (
				b   []byte
				err error
			)
			go func() { defer close(done); b, err = io.ReadAll(resp.Body) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the tail went on for 30 s after it should have failed")
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("the body ended with %v, want it cut (unexpected EOF)", err)
			}
			if strings.Contains(string(b), "<nil>") || strings.Contains(string(b), "no _time") || strings.Contains(string(b), "narrow") {
				t.Errorf("the error came as data: %.200q", b)
			}
		})
	}
}

// TestTailSplitsBigRefresh: a refresh over the byte cap spread over time is
// written whole, oldest first, each row once.
func TestTailSplitsBigRefresh(t *testing.T) {
	t.Parallel()
	ts, arc := newTailServer(t)
	const n = 24 // of 500 KB: 12 MB, over the cap
	for i, rec := range bigLines(n, 500<<10) {
		writeLines(t, arc, uint64(i+1), rec) // each at its own instant
	}
	resp := openTail(t, ts.url, tailArgs("*", "1m"))
	if resp.StatusCode != 200 {
		t.Fatalf("%d, want 200", resp.StatusCode)
	}
	rd := bufio.NewReader(resp.Body)
	next := func() (string, string) {
		t.Helper()
		line, err := rd.ReadBytes('\n')
		if err != nil {
			t.Fatalf("after %d bytes: %v", len(line), err)
		}
		var row map[string]string
		if err := json.Unmarshal(line, &row); err != nil {
			t.Fatalf("%.200q: %v", line, err)
		}
		return row["_time"], row["_msg"][:3]
	}
	var lastTime string
	for i := range n {
		tm, msg := next()
		if want := fmt.Sprintf("%03d", i); msg != want || tm < lastTime {
			t.Fatalf("row %d is line %s at %s (after one at %s), want line %s, oldest first", i, msg, tm, lastTime, want)
		}
		lastTime = tm
	}
	// Later refreshes read the last 5 s again: none of it comes twice.
	writeLines(t, arc, n+1, drainpipe.Record{App: "myapp", Source: "app", Dyno: "web.1", Message: "new"})
	if _, msg := next(); msg != "new" {
		t.Errorf("after the %d rows came %q, want the new line", n, msg)
	}
}

// TestTailConcurrencyCap: at most 4 tails run at once; a 5th is refused with a
// sentence saying why, and one more runs when one of the 4 ends.
func TestTailConcurrencyCap(t *testing.T) {
	t.Parallel()
	ts, _ := newTailServer(t)
	var open []*http.Response
	for range 4 {
		resp := openTail(t, ts.url, tailArgs("*", "5s"))
		if resp.StatusCode != 200 {
			t.Fatalf("tail %d: %d, want 200", len(open)+1, resp.StatusCode)
		}
		open = append(open, resp)
	}
	resp := openTail(t, ts.url, tailArgs("*", "5s"))
	if resp.StatusCode != 503 {
		t.Fatalf("a 5th tail: %d, want 503", resp.StatusCode) // a stream: read no further
	}
	if b, _ := io.ReadAll(resp.Body); !strings.Contains(string(b), "4 live tails are open") {
		t.Errorf("a 5th tail: %q, want it to say 4 are open", b)
	}
	// Queries are not tails: they still run.
	if resp, text := do(t, "GET", ts.url+"/select/logsql/query?query=*", "", admin()); resp.StatusCode != 200 {
		t.Errorf("a query while 4 tails run: %d %s", resp.StatusCode, text)
	}
	open[0].Body.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp := openTail(t, ts.url, tailArgs("*", "5s"))
		if resp.StatusCode == 200 {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatalf("no tail runs 20 s after one of 4 ended: %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond) // the server sees the client gone at its next read or tick
	}
}
