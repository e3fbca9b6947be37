package main_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/logplex"
)

// selfSigned writes a certificate and key for 127.0.0.1 and returns their paths.
func selfSigned(t *testing.T) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "drainpipe test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	cert, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return cert, keyPath
}

// syslogAddr finds the address a syslog listener logged.
func (s *server) syslogAddr(kind string) string {
	s.t.Helper()
	re := regexp.MustCompile(`msg="syslog listening".*listener=` + kind + ` addr=(\S+)`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(s.logText()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("no %s syslog listener in the logs:\n%s", kind, s.logText())
	return ""
}

// TestSyslogDrains receives Heroku's syslog stream over TLS and util-linux's
// logger over TCP: lines go to the drain whose Heroku token is their HOSTNAME,
// lines with an unknown token are counted and not stored.
func TestSyslogDrains(t *testing.T) {
	t.Parallel()
	cert, key := selfSigned(t)
	s := startServer(t, "", "--syslog-listen", "127.0.0.1:0", "--syslog-tls-listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key)
	if _, errOut, code := s.cli("drains", "add", "sysapp", "--heroku-token", "d.9173ea1f-6f14-4976-9cf0-7cd0dafdcdbc"); code != 0 {
		t.Fatalf("add: %s", errOut)
	}

	// Heroku's syslog+tls stream, as captured.
	conn, err := tls.Dial("tcp", s.syslogAddr("tls"), &tls.Config{InsecureSkipVerify: true}) // self-signed, made above
	if err != nil {
		t.Fatal(err)
	}
	conn.Write(readFixture(t, "syslog-drain-stream.rfc6587"))
	conn.Write(logplex.AppendFrame(nil, []byte("<190>1 2026-01-01T00:00:00Z d.00000000-0000-0000-0000-000000000000 app web.1 - - stranger\n")))
	conn.Close()
	lines := s.waitLines("sysapp", 3)
	if len(lines) != 3 || !strings.Contains(lines[2].Message, "Error L10") || lines[1].Dyno != "web.1" || lines[1].Source != "app" {
		t.Fatalf("syslog lines: %+v", lines)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.metric("drainpipe_syslog_unknown_token_lines_total") < 1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := s.metric("drainpipe_syslog_unknown_token_lines_total"); n != 1 {
		t.Errorf("unknown-token lines counted %v, want 1", n)
	}

	// util-linux logger, a real syslog client, over TCP with octet counting. It puts
	// the machine's host name in HOSTNAME: register that as a token.
	logger, err := exec.LookPath("logger")
	if err != nil {
		t.Fatal("util-linux logger is missing: install bsdutils (Debian, Ubuntu) or util-linux; scripts/test installs it")
	}
	host, _ := os.Hostname()
	if _, errOut, code := s.cli("drains", "add", "loggerapp", "--heroku-token", host); code != 0 {
		t.Fatalf("add: %s", errOut)
	}
	addr := s.syslogAddr("tcp")
	hostPort := strings.Split(addr, ":")
	out, err := exec.Command(logger, "--tcp", "--octet-count", "--rfc5424", "-n", hostPort[0], "-P", hostPort[1], "-t", "app", "hello from logger").CombinedOutput()
	if err != nil {
		t.Fatalf("logger: %v %s", err, out)
	}
	got := s.waitLines("loggerapp", 1)
	if len(got) != 1 || got[0].Message != "hello from logger" || got[0].Source != "app" || got[0].Dyno != "" {
		t.Fatalf("logger line: %+v", got)
	}
	// logger sent no PROCID ("-"): the line prints as `app:`, as `heroku logs` would.
	printed, _, _ := s.cli("tail", "loggerapp")
	if !strings.HasSuffix(strings.TrimSpace(printed), " app: hello from logger") {
		t.Fatalf("tail printed %q, want it to end in \" app: hello from logger\"", printed)
	}
}
