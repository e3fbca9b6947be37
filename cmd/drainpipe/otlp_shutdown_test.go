package main_test

import (
	"bytes"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// TestOTLPGRPCStalledExportAtShutdown opens an OTLP/gRPC export (over a raw HTTP/2
// connection) whose message never arrives, then sends SIGTERM: the gRPC server's
// graceful stop would wait for that call; it must be cut within the shutdown
// budget's ingest part, and the server exit 0 within 10 s.
func TestOTLPGRPCStalledExportAtShutdown(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--otlp-grpc-listen", "127.0.0.1:0", "--metrics=false")
	m := grpcAddrRe.FindStringSubmatch(s.logText())
	if m == nil {
		t.Fatalf("no OTLP/gRPC address in the server's log:\n%s", s.logText())
	}
	out, errOut, code := s.cli("drains", "add", "stalled", "--fir", "--json")
	if code != 0 {
		t.Fatalf("drains add --fir: exit %d %s", code, errOut)
	}
	var td telemetryDrain
	if err := json.Unmarshal([]byte(out), &td); err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", m[1], 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	stallExport(t, c, m[1], td.Headers)

	took, err := s.stop()
	if err != nil || took > 10*time.Second {
		t.Fatalf("SIGTERM with a stalled OTLP/gRPC export: exit %v after %v, want 0 within 10 s\n%s", err, took, s.logText())
	}
	if !strings.Contains(s.logText(), "OTLP/gRPC exports still in flight") {
		t.Fatalf("the stalled export did not hold the graceful stop (was it open?):\n%s", s.logText())
	}
	t.Logf("stopped in %v", took)
}

// stallExport starts a logs Export call on c with headers, sends the first bytes
// of a 4 KiB message and no more, and returns once the server has read those
// frames (it acknowledged a PING sent after them).
func stallExport(t *testing.T, c net.Conn, authority string, headers map[string]string) {
	t.Helper()
	if _, err := c.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":authority", authority},
		{":path", "/opentelemetry.proto.collector.logs.v1.LogsService/Export"},
		{"content-type", "application/grpc"}, {"te", "trailers"}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	for k, v := range headers {
		_ = enc.WriteField(hpack.HeaderField{Name: strings.ToLower(k), Value: v})
	}
	ping := [8]byte{'s', 't', 'a', 'l', 'l', 'e', 'd', '!'}
	for _, err := range []error{
		fr.WriteSettings(),
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndHeaders: true}),
		// A gRPC message prefix announcing 4,096 bytes, and 10 of them.
		fr.WriteData(1, false, append([]byte{0, 0, 0, 0x10, 0}, make([]byte, 10)...)),
		fr.WritePing(false, ping),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("waiting for the server to read the stalled call: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if f.IsAck() && f.Data == ping {
				return
			}
		case *http2.RSTStreamFrame:
			t.Fatalf("the server reset the call: %v", f.ErrCode)
		case *http2.GoAwayFrame:
			t.Fatalf("the server went away: %v", f.ErrCode)
		}
	}
}
