package cluster_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/cluster"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// freezer is a TCP relay to a NATS server that can stop passing bytes while
// keeping its connections open: a server frozen (SIGSTOP) or cut off by the
// network, which answers nothing and refuses nothing.
type freezer struct {
	addr   string
	mu     sync.Mutex
	frozen chan struct{} // closed when frozen
	done   chan struct{} // closed when the test ends
}

func newFreezer(t *testing.T, upstream string) *freezer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{addr: ln.Addr().String(), frozen: make(chan struct{}), done: make(chan struct{})}
	var conns sync.WaitGroup
	t.Cleanup(func() { ln.Close(); f.freeze(); close(f.done); conns.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				continue
			}
			conns.Go(func() { f.relay(up, c) })
			conns.Go(func() { f.relay(c, up) })
		}
	}()
	return f
}

// relay copies src to dst until frozen; then it holds both open, passing nothing,
// until the test ends.
func (f *freezer) relay(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-f.frozen:
			<-f.done // held open, as a frozen server holds them
			dst.Close()
			return
		default:
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				dst.Close()
			}
			return
		}
	}
}

func (f *freezer) freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.frozen:
	default:
		close(f.frozen)
	}
}

// TestLeaveWhenNATSIsFrozen: a node leaving while its NATS server answers nothing
// returns when its context ends, not after the client's own timeouts (the
// heartbeat's write, each watch's stop), so shutdown keeps its 10 s.
func TestLeaveWhenNATSIsFrozen(t *testing.T) {
	t.Parallel()
	srv := startEngine(t, &server.Options{Host: "127.0.0.1", Port: -1})
	f := newFreezer(t, srv.Addr().String())
	nc, err := nats.Connect("nats://"+f.addr, nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := fast
	cfg.JetStream, cfg.Node, cfg.Sinks = js, "a", []string{"archive"}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := cluster.Join(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.freeze()
	lctx, lcancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer lcancel()
	start := time.Now()
	err = c.Leave(lctx)
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("Leave took %v with a context of 500ms", took)
	}
	if err == nil {
		t.Error("Leave said it marked the node stopped on a frozen server")
	}
}
