package syslog_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/syslog"
)

// A TLS connection that never finishes its handshake is closed after
// HandshakeTimeout, not held until the idle timeout.
func TestTLSHandshakeTimeout(t *testing.T) {
	t.Parallel()
	cert, _ := selfSigned(t)
	s, reg := startServer(t, syslog.Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}},
		HandshakeTimeout: 300 * time.Millisecond}, drainMap{token: drain}, newCollector(0))
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.Copy(io.Discard, conn); err != nil {
		t.Fatalf("a stalled handshake was held open: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for metric(t, reg, "drainpipe_syslog_read_errors_total") == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := metric(t, reg, "drainpipe_syslog_read_errors_total"); got != 1 {
		t.Errorf("read errors = %v, want 1 (the handshake)", got)
	}
}

// Strangers that each send a large octet count and most of its frame, then stall,
// cannot hold more than MaxConns connections (and so MaxConns × MaxFrame bytes):
// the quietest make room for newcomers, and a real sender still gets through.
func TestConnectionCap(t *testing.T) {
	t.Parallel()
	app := newCollector(0)
	s, reg := startServer(t, syslog.Config{MaxConns: 20}, drainMap{token: drain}, app)
	stall := "70000 " + strings.Repeat("x", 65000)
	var stalled []net.Conn
	defer func() {
		for _, c := range stalled {
			c.Close()
		}
	}()
	for range 100 {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		stalled = append(stalled, c)
		if _, err := c.Write([]byte(stall)); err != nil && !errors.Is(err, net.ErrClosed) {
			// the server may have closed it already to make room
			t.Logf("write: %v", err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	// An evicted connection leaves the open gauge once its reader has seen the close.
	for (metric(t, reg, "drainpipe_syslog_connections_evicted_total") < 80 || metric(t, reg, "drainpipe_syslog_connections_open") > 20) &&
		time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if ev, open := metric(t, reg, "drainpipe_syslog_connections_evicted_total"), metric(t, reg, "drainpipe_syslog_connections_open"); ev < 80 || open > 20 {
		t.Fatalf("%v connections evicted, %v open; want at least 80 and at most 20", ev, open)
	}
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := c.Write([]byte(line(i))); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	if recs := app.waitLines(3); len(recs) < 3 || recs[len(recs)-1].Message != "line 2" {
		t.Fatalf("a real sender's lines: %+v", recs)
	}
}
