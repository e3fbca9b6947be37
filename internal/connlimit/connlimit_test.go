package connlimit_test

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/internal/connlimit"
)

// accepted dials l and returns the client end and the server's *Conn.
func accepted(t *testing.T, l *connlimit.Listener) (net.Conn, *connlimit.Conn) {
	t.Helper()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	nc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return client, nc.(*connlimit.Conn)
}

// closedByServer reports whether the server closed c's other end.
func closedByServer(t *testing.T, c net.Conn) bool {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err := c.Read(make([]byte, 1))
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err)
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// At the cap, the quietest idle connection makes room; busy ones are kept; when all
// are busy the newcomer is refused.
func TestEvictsQuietestIdle(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := connlimit.New(ln, 2)
	defer l.Close()

	quiet, _ := accepted(t, l)
	active, activeConn := accepted(t, l)
	// active sends a byte after quiet was accepted: quiet is the quietest now.
	time.Sleep(10 * time.Millisecond)
	if _, err := active.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := activeConn.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	_, third := accepted(t, l)
	if !closedByServer(t, quiet) {
		t.Error("the quietest connection was not closed to make room")
	}
	if l.Open() != 2 || l.Evicted() != 1 {
		t.Errorf("open %d evicted %d, want 2 and 1", l.Open(), l.Evicted())
	}

	defer activeConn.Busy()()
	defer third.Busy()()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	go func() { _, _ = l.Accept() }() // refuses the newcomer, then waits on
	if !closedByServer(t, client) {
		t.Error("a newcomer was admitted while every connection was busy")
	}
	deadline := time.Now().Add(2 * time.Second)
	for l.Refused() != 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if l.Refused() != 1 || l.Open() != 2 {
		t.Errorf("refused %d open %d, want 1 and 2", l.Refused(), l.Open())
	}
}

// A closed connection frees its place at once.
func TestCloseFreesPlace(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := connlimit.New(ln, 1)
	defer l.Close()
	_, c := accepted(t, l)
	c.Close()
	c.Close() // twice is fine
	if l.Open() != 0 {
		t.Fatalf("open %d after Close", l.Open())
	}
	accepted(t, l)
	if l.Evicted() != 0 {
		t.Errorf("evicted %d with a free place", l.Evicted())
	}
}
