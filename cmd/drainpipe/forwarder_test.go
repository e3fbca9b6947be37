package main_test

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// forwarder is a TCP forwarder on a fixed 127.0.0.1 port, so that load keeps one
// URL while the server behind it restarts on new ports.
type forwarder struct {
	addr   string
	mu     sync.Mutex
	target string
}

func newForwarder(t *testing.T) *forwarder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{addr: ln.Addr().String()}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *forwarder) to(url string) {
	f.mu.Lock()
	f.target = strings.TrimPrefix(url, "http://")
	f.mu.Unlock()
}

func (f *forwarder) serve(c net.Conn) {
	defer c.Close()
	f.mu.Lock()
	target := f.target
	f.mu.Unlock()
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}
