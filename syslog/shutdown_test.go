package syslog_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/syslog"
)

// TestShutdownDrainsConnections shuts the server down while senders (plain TCP
// and TLS) are mid-stream: each is told (its read side sees the end) and new
// connections are refused, but every line a sender writes until it finishes is
// read and appended, none lost.
func TestShutdownDrainsConnections(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)
	for _, tc := range []struct {
		name string
		tls  *tls.Config
		dial func(addr string) (net.Conn, error)
	}{
		{"tcp", nil, func(addr string) (net.Conn, error) { return net.Dial("tcp", addr) }},
		{"tls", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, func(addr string) (net.Conn, error) {
			return tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			app := newCollector(0)
			s, reg := startServer(t, syslog.Config{TLS: tc.tls}, drainMap{token: drain}, app)
			conn, err := tc.dial(s.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			sent := 0
			send := func(n int) {
				for range n {
					if _, err := conn.Write([]byte(line(sent))); err != nil {
						t.Fatalf("write %d: %v", sent, err)
					}
					sent++
				}
			}
			send(500)
			app.waitLines(1) // the connection is being served
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- s.Shutdown(ctx) }()
			// The server says it is going: the sender's read side ends.
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
				t.Fatalf("read after the shutdown began: %v, want EOF (the server closed its side)", err)
			}
			if c, err := tc.dial(s.Addr().String()); err == nil {
				c.Close()
				t.Fatal("a new connection was accepted during the shutdown")
			}
			send(2000) // still in flight when the shutdown began
			conn.Close()
			if err := <-done; err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			recs := app.waitLines(sent)
			if len(recs) != sent || recs[sent-1].Message != fmt.Sprintf("line %d", sent-1) {
				t.Fatalf("%d of %d lines appended, last %q", len(recs), sent, recs[len(recs)-1].Message)
			}
			if lost, cut := metric(t, reg, "drainpipe_syslog_lost_lines_total"), metric(t, reg, "drainpipe_syslog_cut_connections_total"); lost != 0 || cut != 0 {
				t.Errorf("lost %v lines, cut %v connections; want none", lost, cut)
			}
		})
	}
}

// TestShutdownCutsEndlessSender keeps sending through the whole shutdown: the
// server stops reading before its deadline, appends what it read, counts the cut
// connection, and returns in time.
func TestShutdownCutsEndlessSender(t *testing.T) {
	t.Parallel()
	app := newCollector(0)
	s, reg := startServer(t, syslog.Config{}, drainMap{token: drain}, app)
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for i := 0; ; i++ {
			if _, err := conn.Write([]byte(line(i))); err != nil {
				return // the server cut it
			}
		}
	}()
	app.waitLines(1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Errorf("Shutdown took %v with a 2 s deadline", took)
	}
	<-stopped
	if cut := metric(t, reg, "drainpipe_syslog_cut_connections_total"); cut != 1 {
		t.Errorf("cut connections = %v, want 1", cut)
	}
	if lost := metric(t, reg, "drainpipe_syslog_lost_lines_total"); lost != 0 {
		t.Errorf("lost lines = %v: what was read before the cut must be appended", lost)
	}
	if n := metric(t, reg, "drainpipe_syslog_lines_total"); n == 0 || int(n) != len(app.waitLines(int(n))) {
		t.Errorf("lines counted %v", n)
	}
}
