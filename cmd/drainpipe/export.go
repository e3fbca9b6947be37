package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

func exportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("export", stderr)
	cf := addClientFlags(f)
	ff := addFilterFlags(f)
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usagef("usage: drainpipe export APP [QUERY] [--since T] [--until T] [--source S] [--dyno D] [--json] > FILE")
	}
	s, c, err := ff.request(pos, cf)
	if err != nil {
		return err
	}
	format := "text"
	if *cf.json {
		format = "json"
	}
	out := stdout
	var screen *jsonLinePrinter
	if isTerminal(stdout) {
		// On a screen, a line's control characters are shown, not obeyed (see
		// terminal.go): the lines come as JSON, which keeps a message's own
		// newline apart from the line's end, and are printed as tail prints
		// them. To a file, they go byte for byte.
		format, screen = "json", &jsonLinePrinter{p: newLinePrinter(stdout, *cf.json, false)}
		out = screen
	}
	if isTerminal(stderr) {
		cnt := &counter{w: out}
		stop := cnt.report(stderr, time.Second)
		defer stop()
		out = cnt
	}
	if err := c.Export(ctx, s, format, out); err != nil {
		return badRequest(err, "export "+s.App)
	}
	if screen != nil {
		return screen.Flush()
	}
	return nil
}

// counter counts the bytes and lines written through it.
type counter struct {
	w            io.Writer
	bytes, lines atomic.Int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.bytes.Add(int64(n))
	c.lines.Add(int64(bytes.Count(p[:n], []byte{'\n'})))
	return n, err
}

// report prints the progress to w every interval, on one line, until the
// returned func is called; that func prints the last figures.
func (c *counter) report(w io.Writer, every time.Duration) func() {
	start := time.Now()
	show := func(end string) {
		secs := time.Since(start).Seconds()
		fmt.Fprintf(w, "\r%d lines, %.1f MB, %.0f lines/s%s", c.lines.Load(), float64(c.bytes.Load())/1e6, float64(c.lines.Load())/max(secs, 1e-3), end)
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				show("")
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		show("\n")
	}
}
