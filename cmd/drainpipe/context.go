package main

import (
	"context"
	"io"
	"strconv"
)

func contextCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("context", stderr)
	cf := addClientFlags(f)
	before := f.Int("B", 20, "lines before the line")
	after := f.Int("A", 20, "lines after the line")
	ids := f.Bool("ids", false, "print each line's id first")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	var id int64
	if len(pos) == 1 {
		id, err = strconv.ParseInt(pos[0], 10, 64)
	}
	if len(pos) != 1 || err != nil || *before < 0 || *after < 0 {
		return usagef("usage: drainpipe context ID [-B 20] [-A 20] [--json] (ID: a line's id, from --json or --ids output)")
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	lc, err := c.Context(ctx, id, *before, *after)
	if err != nil {
		return badRequest(err, "context of line "+pos[0])
	}
	if *cf.json {
		return writeJSON(stdout, lc)
	}
	// The line itself is marked "> ", the lines around it "  ".
	p := newLinePrinter(stdout, false, *ids)
	for _, l := range lc.Before {
		p.buf = append(p.buf, "  "...)
		_ = p.print(l)
	}
	p.buf = append(p.buf, "> "...)
	_ = p.print(lc.Line)
	for _, l := range lc.After {
		p.buf = append(p.buf, "  "...)
		_ = p.print(l)
	}
	return p.flush()
}
