package main_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestUnauthenticatedBodyIsNotAwaited opens 200 connections that send a drain (or
// OTLP export, or admin API) request's headers with Content-Length: 200000 and no
// credentials, and never the body. Each must be answered 401 at once and closed
// soon after (within the second a refused body gets), not held open waiting; a
// real drain keeps getting 204 meanwhile.
func TestUnauthenticatedBodyIsNotAwaited(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--metrics=false")
	u := s.addDrain("busy")
	addr := strings.TrimPrefix(s.url, "http://")
	const n = 200
	var wg sync.WaitGroup
	results := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				results <- fmt.Sprintf("conn %d: dial: %v", i, err)
				return
			}
			defer c.Close()
			path, ctype := "/logs", "application/logplex-1"
			switch i % 4 {
			case 0:
				path = "/api/drains"
			case 1:
				path, ctype = "/v1/logs", "application/x-protobuf"
			}
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: 200000\r\n\r\n", path, addr, ctype)
			_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
			resp, err := io.ReadAll(c) // the answer, then the server's close
			switch {
			case err != nil:
				results <- fmt.Sprintf("conn %d: %v after %q: held open without its body", i, err, resp)
			case !strings.HasPrefix(string(resp), "HTTP/1.1 401 "):
				results <- fmt.Sprintf("conn %d: answered %q", i, resp)
			}
		})
	}
	start := time.Now()
	if code := post(t, u, strings.NewReader(""), nil); code != 204 || time.Since(start) > 2*time.Second {
		t.Errorf("a real drain got %d after %v while 200 clients held bodies back", code, time.Since(start))
	}
	wg.Wait()
	close(results)
	bad := 0
	for r := range results {
		if bad++; bad <= 5 {
			t.Error(r)
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d unauthenticated connections were not answered 401 and closed within 3 s", bad, n)
	}
}

// TestConnectionFlood runs the server with 256 file descriptors and floods it with
// 600 connections that send half a request's headers and stall, and then a new one
// every 10 ms. /healthz and a real drain must keep answering promptly: the server
// caps its connections and closes the quietest for newcomers, instead of running
// out of descriptors.
func TestConnectionFlood(t *testing.T) {
	t.Parallel()
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Fatal("util-linux prlimit is missing: ./scripts/test installs it")
	}
	s := &server{t: t, data: t.TempDir(), args: []string{"--metrics=false"}, wrap: []string{prlimit, "--nofile=256:256"}}
	s.start()
	t.Cleanup(s.kill)
	u := s.addDrain("flooded")
	addr := strings.TrimPrefix(s.url, "http://")

	stop := make(chan struct{})
	var opened atomic.Int64
	var wg sync.WaitGroup
	stall := func() {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		defer c.Close()
		opened.Add(1)
		fmt.Fprintf(c, "POST /logs HTTP/1.1\r\nHost: %s\r\n", addr)
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, _ = io.Copy(io.Discard, c) // until the server closes it
	}
	for range 600 {
		wg.Go(stall)
	}
	for opened.Load() < 600 {
		time.Sleep(10 * time.Millisecond)
	}
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				wg.Go(stall)
			}
		}
	})
	defer func() { close(stop); s.kill(); wg.Wait() }()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := range 20 {
		start := time.Now()
		resp, err := client.Get(s.url + "/healthz")
		if err != nil {
			t.Fatalf("/healthz during the flood: %v after %v", err, time.Since(start))
		}
		resp.Body.Close()
		code := postWith(t, client, u, fmt.Sprintf("during the flood %d", i))
		if took := time.Since(start); resp.StatusCode != 200 || code != 204 || took > 3*time.Second {
			t.Fatalf("during the flood: /healthz %d, drain %d, after %v", resp.StatusCode, code, took)
		}
	}
	if ev := s.metric("drainpipe_http_connections_evicted_total"); ev == 0 {
		t.Error("no connection evicted during a flood of 600 over a cap")
	}
	if open, most := s.metric("drainpipe_http_connections_open"), s.metric("drainpipe_http_connections_max"); open > most || most > 64 {
		t.Errorf("%v connections open, cap %v (want at most a quarter of 256 descriptors)", open, most)
	}
}

// postWith posts one line to a drain URL with client and returns the status.
func postWith(t *testing.T, client *http.Client, drainURL, text string) int {
	t.Helper()
	u, err := url.Parse(drainURL)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, drainURL, strings.NewReader(string(logplexBody(time.Now(), text))))
	req.Header.Set("Content-Type", "application/logplex-1")
	if pw, ok := u.User.Password(); ok {
		req.SetBasicAuth(u.User.Username(), pw)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("post during the flood: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, bufio.NewReader(resp.Body))
	return resp.StatusCode
}
