package syslog_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drainpipe/drainpipe/syslog"
)

// pipeServer serves one end of a net.Pipe inside a synctest bubble and returns the
// other end, the sender's.
func pipeServer(t *testing.T, cfg syslog.Config, app syslog.Appender) (*syslog.Server, net.Conn, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Addr, cfg.Registerer = "127.0.0.1:0", reg
	s, err := syslog.NewServer(cfg, drainMap{token: drain}, app)
	if err != nil {
		t.Fatal(err)
	}
	client, server := net.Pipe()
	go s.ServeConn(server)
	return s, client, reg
}

func line(i int) string {
	return fmt.Sprintf("<190>1 2026-11-22T03:00:00Z %s app web.1 - - line %d\n", token, i)
}

func TestBatching(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		app := newCollector(0)
		s, client, _ := pipeServer(t, syslog.Config{BatchLines: 2, FlushInterval: time.Second}, app)
		for i := range 5 {
			if _, err := client.Write([]byte(line(i))); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if batches, _ := app.snapshot(); len(batches) != 2 || len(batches[0].Records) != 2 || len(batches[1].Records) != 2 {
			t.Fatalf("after 5 lines: %d batches, want two full ones", len(batches))
		}
		time.Sleep(time.Second - time.Nanosecond)
		synctest.Wait()
		if batches, _ := app.snapshot(); len(batches) != 2 {
			t.Fatalf("the fifth line was appended before FlushInterval")
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		batches, _ := app.snapshot()
		if len(batches) != 3 || batches[2].Records[0].Message != "line 4" {
			t.Fatalf("after FlushInterval: %+v, want the fifth line in a third batch", batches)
		}
		client.Close()
		s.Close()
	})
}

// TestBackPressure checks that while the journal refuses a batch the connection is
// not read (the sender's writes block) and that the batch is retried, not dropped.
func TestBackPressure(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		app := newCollector(3)
		s, client, reg := pipeServer(t, syslog.Config{BatchLines: 1}, app)
		wrote := make(chan int, 2)
		go func() {
			for i := range 2 {
				if _, err := client.Write([]byte(line(i))); err != nil {
					return
				}
				wrote <- i
			}
		}()
		synctest.Wait()
		if len(wrote) != 1 {
			t.Fatalf("%d writes went through while the journal was full, want only the first", len(wrote))
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		recs := app.waitLines(2)
		if len(recs) != 2 || len(wrote) != 2 {
			t.Fatalf("after the journal recovered: %d lines stored, %d writes done; want 2 and 2", len(recs), len(wrote))
		}
		if got := metric(t, reg, "drainpipe_syslog_append_errors_total"); got != 3 {
			t.Errorf("append errors = %v, want 3", got)
		}
		client.Close()
		s.Close()
	})
}

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		app := newCollector(0)
		s, client, reg := pipeServer(t, syslog.Config{IdleTimeout: time.Minute, FlushInterval: time.Second}, app)
		if _, err := client.Write([]byte(line(0))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(59 * time.Second)
		synctest.Wait()
		if _, err := client.Write([]byte(line(1))); err != nil {
			t.Fatalf("the connection closed before it was idle for IdleTimeout: %v", err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if _, err := client.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Fatalf("read after IdleTimeout: %v, want the server to have closed", err)
		}
		if recs := app.waitLines(2); len(recs) != 2 {
			t.Fatalf("stored %d lines, want 2", len(recs))
		}
		if got := metric(t, reg, "drainpipe_syslog_idle_timeouts_total"); got != 1 {
			t.Errorf("idle timeouts = %v, want 1", got)
		}
		s.Close()
	})
}

func TestCloseFlushes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		app := newCollector(0)
		s, client, _ := pipeServer(t, syslog.Config{FlushInterval: time.Hour}, app)
		for i := range 3 {
			if _, err := client.Write([]byte(line(i))); err != nil {
				t.Fatal(err)
			}
		}
		// A frame cut short by the shutdown is kept too.
		if _, err := client.Write([]byte("99 <190>1 cut")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		recs := app.waitLines(4)
		if len(recs) != 4 || recs[2].Message != "line 2" || !recs[3].Malformed || recs[3].Message != "99 <190>1 cut" {
			t.Fatalf("after Close: %+v, want the 3 lines read and the cut frame", recs)
		}
		if _, err := client.Write([]byte(line(9))); err == nil {
			t.Error("the connection is still open after Close")
		}
	})
}

func TestCloseGivesUpAfterShutdownTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		app := newCollector(-1) // refuses every append
		s, client, reg := pipeServer(t, syslog.Config{FlushInterval: time.Hour, ShutdownTimeout: 30 * time.Second}, app)
		if _, err := client.Write([]byte(line(0) + line(1))); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		start := time.Now()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited != 30*time.Second {
			t.Errorf("Close took %v, want ShutdownTimeout", waited)
		}
		if got := metric(t, reg, "drainpipe_syslog_lost_lines_total"); got != 2 {
			t.Errorf("lost lines = %v, want 2", got)
		}
	})
}
