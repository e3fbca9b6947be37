package syslog_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/syslog"
)

func FuzzStream(f *testing.F) {
	stream, err := os.ReadFile("testdata/syslog-drain-stream.rfc6587")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(stream),
		"<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed\n<13>Nov  2 01:02:03 cron[7]: job\r\n",
		"48 <190>1 2026-11-22T03:00:00Z d.x app web.1 - - hi<190>1 - d.x app web.1 - [a b=\"\\]\"] x\n",
		"0 \n123abc\n99 <13>1 cut",
		"40 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n",
	} {
		f.Add([]byte(seed), uint8(0))
		f.Add([]byte(seed), uint8(255))
	}
	f.Fuzz(func(t *testing.T, data []byte, size uint8) {
		// Small frame limits (16 to 271 bytes) exercise the cutting, and keep the
		// parser's buffer small enough for the fuzzer to run fast.
		limit := 16 + int(size)
		whole := parseAll(t, bytes.NewReader(data), limit)
		bytewise := parseAll(t, iotest.OneByteReader(bytes.NewReader(data)), limit)
		if len(whole) != len(bytewise) {
			t.Fatalf("%d records read whole, %d read a byte at a time", len(whole), len(bytewise))
		}
		for i, r := range whole {
			if !reflect.DeepEqual(r, bytewise[i]) {
				t.Fatalf("record %d: %+v read whole, %+v a byte at a time", i, r, bytewise[i])
			}
			for _, s := range []string{r.Host, r.Source, r.Dyno, r.MsgID, r.StructuredData, r.Message} {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 in %+v", r)
				}
			}
			// An escaped byte takes 4; a piece may carry its count (up to 11 bytes).
			if len(r.Message) > 4*(limit+11) {
				t.Fatalf("record %d holds %d bytes, past the %d-byte frame limit", i, len(r.Message), limit)
			}
		}
	})
}

func parseAll(t *testing.T, r io.Reader, maxFrame int) []drainpipe.Record {
	p := syslog.NewParser(r, maxFrame)
	var out []drainpipe.Record
	for {
		rec, err := p.Next(received)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
}
