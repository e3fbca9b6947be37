package syslog_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/syslog"
)

const token = "d.9173ea1f-6f14-4976-9cf0-7cd0dafdcdbc"

var drain = drainpipe.Drain{ID: "drn_1", App: "cryptic-cliffs"}

// drainMap is a Drains over a fixed map.
type drainMap map[string]drainpipe.Drain

func (m drainMap) Drain(token string) (drainpipe.Drain, bool) {
	d, ok := m[token]
	return d, ok
}

var _ syslog.Drains = drainMap(nil)

// collector is an Appender that keeps the batches; it refuses the first fail appends
// as a full journal would.
type collector struct {
	mu      sync.Mutex
	cond    *sync.Cond
	batches []drainpipe.Batch
	fail    int
	calls   int
}

var _ syslog.Appender = (*collector)(nil)

func newCollector(fail int) *collector {
	c := &collector{fail: fail}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *collector) Append(ctx context.Context, b *drainpipe.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.fail != 0 {
		c.fail--
		return drainpipe.ErrJournalFull
	}
	cp := *b
	cp.Records = append([]drainpipe.Record(nil), b.Records...)
	c.batches = append(c.batches, cp)
	c.cond.Broadcast()
	return nil
}

// waitLines blocks until n lines have been appended, and returns them.
func (c *collector) waitLines(n int) []drainpipe.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		var recs []drainpipe.Record
		for _, b := range c.batches {
			recs = append(recs, b.Records...)
		}
		if len(recs) >= n {
			return recs
		}
		c.cond.Wait()
	}
}

func (c *collector) snapshot() (batches []drainpipe.Batch, calls int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]drainpipe.Batch(nil), c.batches...), c.calls
}

// startServer runs a server on 127.0.0.1:0 until the test ends.
func startServer(t *testing.T, cfg syslog.Config, drains syslog.Drains, app syslog.Appender) (*syslog.Server, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Addr, cfg.Registerer = "127.0.0.1:0", reg
	s, err := syslog.NewServer(cfg, drains, app)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(t.Context()) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, reg
}

// metric returns the value of the counter or gauge called name (with the given label
// values, if any) in reg.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for i, l := range m.GetLabel() {
				if i >= len(labels) || l.GetValue() != labels[i] {
					continue next
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// sendAndCheck sends the fixture stream framed both ways on conn, with lines the
// server must not store, and checks what reaches the journal.
func sendAndCheck(t *testing.T, conn net.Conn, app *collector, reg *prometheus.Registry) {
	t.Helper()
	stream, err := os.ReadFile("testdata/syslog-drain-stream.rfc6587")
	if err != nil {
		t.Fatal(err)
	}
	msgs := "not syslog before any drain is known\n" + string(stream) +
		"<190>1 2026-11-22T03:00:00Z d.unknown app web.1 - - not ours\n" +
		"<190>1 2026-11-22T03:00:01Z " + token + " app web.2 - - newline framed\n" +
		"garbage after a known drain\n"
	if _, err := conn.Write([]byte(msgs)); err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	recs := app.waitLines(5)
	want := []string{
		"source=worker.1 dyno=heroku.97268060.75eb7bb9-ab78-41be-9cc7-576eaad6dae7 sample#memory_total=318.20MB sample#memory_rss=304.71MB sample#memory_cache=13.48MB sample#memory_swap=0.00MB sample#memory_pgpgin=143756pages sample#memory_pgpgout=62297pages sample#memory_quota=512.00MB",
		"Your message here.",
		"Error L10 (output buffer overflow): 500 messages dropped since 2013-04-17T19:04:46+00:00.",
		"newline framed",
		"garbage after a known drain",
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d: %+v", len(recs), len(want), recs)
	}
	for i, r := range recs {
		if r.Message != want[i] || r.Drain != drain.ID || r.App != drain.App || r.Malformed != (i == 4) {
			t.Errorf("record %d = %+v, want message %q on drain %s", i, r, want[i], drain.ID)
		}
	}
	batches, _ := app.snapshot()
	for _, b := range batches {
		if b.Drain != drain.ID || b.App != drain.App || b.Received.IsZero() {
			t.Errorf("batch %+v: want drain, app and receive time set", b)
		}
	}
	for _, m := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"drainpipe_syslog_lines_total", nil, 5},
		{"drainpipe_syslog_unknown_token_lines_total", nil, 1},
		{"drainpipe_syslog_malformed_lines_total", []string{"false"}, 1},
		{"drainpipe_syslog_malformed_lines_total", []string{"true"}, 1},
		{"drainpipe_syslog_connections_total", nil, 1},
	} {
		if got := metric(t, reg, m.name, m.labels...); got != m.want {
			t.Errorf("%s%v = %v, want %v", m.name, m.labels, got, m.want)
		}
	}
}

func TestServerTCP(t *testing.T) {
	t.Parallel()
	app := newCollector(0)
	s, reg := startServer(t, syslog.Config{}, drainMap{token: drain}, app)
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sendAndCheck(t, conn, app, reg)
}

func TestServerTLS(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)
	app := newCollector(0)
	s, reg := startServer(t, syslog.Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}, drainMap{token: drain}, app)
	conn, err := tls.Dial("tcp", s.Addr().String(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	sendAndCheck(t, conn, app, reg)
}

// TestServerTLSRejectsPlainText checks that a plain TCP sender on the TLS port is
// counted as a failed connection and stores nothing.
func TestServerTLSRejectsPlainText(t *testing.T) {
	t.Parallel()
	cert, _ := selfSigned(t)
	app := newCollector(0)
	s, reg := startServer(t, syslog.Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}, drainMap{token: drain}, app)
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("<190>1 2026-11-22T03:00:01Z " + token + " app web.2 - - plain\n")); err != nil {
		t.Fatal(err)
	}
	// The server answers the bad handshake with an alert and closes.
	buf := make([]byte, 512)
	for {
		if _, err := conn.Read(buf); err != nil {
			break
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if batches, _ := app.snapshot(); len(batches) != 0 {
		t.Errorf("stored %+v from a plain-text sender", batches)
	}
	if got := metric(t, reg, "drainpipe_syslog_read_errors_total"); got != 1 {
		t.Errorf("read errors = %v, want 1", got)
	}
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "drainpipe test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestNewServerErrors(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	s, err := syslog.NewServer(syslog.Config{Addr: "127.0.0.1:0", Registerer: reg}, drainMap{}, newCollector(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := syslog.NewServer(syslog.Config{Addr: "127.0.0.1:0", Registerer: reg}, drainMap{}, newCollector(0)); err == nil {
		t.Error("a second server on the same registerer: want an error")
	}
	if _, err := syslog.NewServer(syslog.Config{Addr: s.Addr().String()}, drainMap{}, newCollector(0)); err == nil {
		t.Error("listening on a port in use: want an error")
	}
}

// TestFirstFrameTooLong: a connection whose first frame is over the size kept
// whole, from a known drain, keeps it in malformed pieces, as a later frame's
// would be; from an unknown token it keeps nothing.
func TestFirstFrameTooLong(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, token string
		counted     bool // octet-counted, else newline-framed
		stored      bool
	}{
		{"octet-counted", token, true, true},
		{"newline", token, false, true},
		{"unknown token", "d.00000000-0000-0000-0000-000000000000", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			app := newCollector(0)
			s, _ := startServer(t, syslog.Config{MaxFrame: 1024}, drainMap{token: drain}, app)
			frame := "<190>1 2026-11-29T10:00:00Z " + tc.token + " app web.1 - " + strings.Repeat("x", 3000)
			last := "<190>1 2026-11-29T10:00:01Z " + token + " app web.1 - the next line\n"
			var body string
			if tc.counted {
				body = fmt.Sprintf("%d %s", len(frame), frame) + fmt.Sprintf("%d %s", len(last), last)
			} else {
				body = frame + "\n" + last
			}
			conn, err := net.Dial("tcp", s.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write([]byte(body)); err != nil {
				t.Fatal(err)
			}
			// The pieces come before the next line, in the connection's order.
			var recs []drainpipe.Record
			for n := 1; ; n++ {
				recs = app.waitLines(n)
				if recs[len(recs)-1].Message == "the next line" {
					break
				}
			}
			var kept strings.Builder
			for _, r := range recs {
				if r.Malformed {
					kept.WriteString(r.Message)
				}
			}
			if got := strings.Count(kept.String(), "x"); tc.stored && got != 3000 || !tc.stored && got != 0 {
				t.Errorf("%d of the long frame's 3000 x kept, want %v", got, tc.stored)
			}
		})
	}
}
