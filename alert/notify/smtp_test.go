package notify_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/alert/notify"
)

// aiosmtpdPython finds a python3 that has Debian's python3-aiosmtpd; the SMTP tests
// need a real SMTP server and fail, loudly, without one.
func aiosmtpdPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import aiosmtpd").Run() == nil {
			return py
		}
	}
	t.Fatal("the SMTP tests need a real SMTP server: install Debian's python3-aiosmtpd (apt-get install python3-aiosmtpd; ./scripts/test does it)")
	return ""
}

// smtpServer is a running aiosmtpd with STARTTLS (a certificate made for the test)
// and the handler in testdata, which requires AUTH PLAIN for one user.
type smtpServer struct {
	addr  string
	out   string
	roots *x509.CertPool
}

func startSMTP(t *testing.T, user, password string, withTLS bool) *smtpServer {
	t.Helper()
	py := aiosmtpdPython(t)
	dir := t.TempDir()
	s := &smtpServer{out: filepath.Join(dir, "mail")}
	if err := os.Mkdir(s.out, 0o700); err != nil {
		t.Fatal(err)
	}
	args := []string{"-m", "aiosmtpd", "-n"}
	if withTLS {
		cert, key, roots := selfSigned(t, dir)
		s.roots = roots
		args = append(args, "--tlscert", cert, "--tlskey", key)
	}
	handlerDir, _ := filepath.Abs("testdata")
	for attempt := 0; ; attempt++ {
		s.addr = freeAddr(t)
		cmd := exec.Command(py, append(args, "-l", s.addr, "-c", "smtpd_handler.Handler", user, password, s.out)...)
		cmd.Env = append(os.Environ(), "PYTHONPATH="+handlerDir)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
		if waitBanner(s.addr, exited) {
			return s
		}
		if attempt == 2 {
			t.Fatalf("aiosmtpd did not start on %s: %s", s.addr, stderr.String())
		}
	}
}

// waitBanner waits up to 20 s for the server's 220 greeting.
func waitBanner(addr string, exited chan struct{}) bool {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "220") {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns a pool
// that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

// received is a message the server accepted.
type received struct {
	MailFrom string   `json:"mail_from"`
	RcptTos  []string `json:"rcpt_tos"`
	TLS      bool     `json:"tls"`
	User     string   `json:"user"`
	msg      *mail.Message
	body     string
}

func (s *smtpServer) messages(t *testing.T) []received {
	t.Helper()
	var out []received
	for i := 1; ; i++ {
		meta, err := os.ReadFile(filepath.Join(s.out, fmt.Sprintf("%d.json", i)))
		if errors.Is(err, os.ErrNotExist) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var r received
		if err := json.Unmarshal(meta, &r); err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(filepath.Join(s.out, fmt.Sprintf("%d.eml", i)))
		if r.msg, err = mail.ReadMessage(strings.NewReader(string(raw))); err != nil {
			t.Fatalf("message %d does not parse: %v\n%s", i, err, raw)
		}
		b, err := io.ReadAll(quotedprintable.NewReader(r.msg.Body))
		if err != nil {
			t.Fatalf("message %d: body is not quoted-printable: %v", i, err)
		}
		r.body = string(b)
		out = append(out, r)
	}
}

func TestEmailOverSTARTTLSWithAuth(t *testing.T) {
	srv := startSMTP(t, "alerts", "p@ss w0rd", true)
	o := opener(t, notify.Options{TLSConfig: &tls.Config{RootCAs: srv.roots}})
	raw := fmt.Sprintf("smtp://alerts:%s@%s/?to=oncall@example.com,lead@example.com&from=drainpipe@example.com", "p%40ss%20w0rd", srv.addr)
	d := open(t, o, raw)
	noSecret(t, d.String(), "p@ss", "w0rd")
	n := sample()
	if err := d.Send(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	if err := d.Send(t.Context(), resolved(n)); err != nil {
		t.Fatal(err)
	}
	msgs := srv.messages(t)
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if !m.TLS || m.User != "alerts" || m.MailFrom != "drainpipe@example.com" || strings.Join(m.RcptTos, ",") != "oncall@example.com,lead@example.com" {
		t.Errorf("envelope %+v", m)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.msg.Header.Get("Subject"))
	if subject != "[FIRING] h12 code=H12" || m.msg.Header.Get("Message-Id") != "<"+n.ID+"@drainpipe>" ||
		m.msg.Header.Get("X-Drainpipe-Event") != "firing" || m.msg.Header.Get("References") != msgs[1].msg.Header.Get("References") {
		t.Errorf("headers %v", m.msg.Header)
	}
	for _, want := range []string{n.Summary, n.SearchURL, "héllo wörld, 日本語", strings.Repeat("x", 1000), "Condition: ≥ 10 lines"} {
		if !strings.Contains(m.body, want) {
			t.Errorf("body lacks %q:\n%s", want, m.body)
		}
	}
	if s, _ := new(mime.WordDecoder).DecodeHeader(msgs[1].msg.Header.Get("Subject")); s != "[RESOLVED] h12 code=H12" {
		t.Errorf("resolved subject %q", s)
	}
}

func TestEmailRefusals(t *testing.T) {
	srv := startSMTP(t, "alerts", "right", true)
	o := opener(t, notify.Options{TLSConfig: &tls.Config{RootCAs: srv.roots}})
	wrong := open(t, o, "smtp://alerts:WR0NG@"+srv.addr+"/?to=oncall@example.com&from=drainpipe@example.com")
	err := wrong.Send(t.Context(), sample())
	if !errors.Is(err, alert.ErrRejected) || !strings.Contains(err.Error(), "535") {
		t.Errorf("wrong password: %v, want a 535 refusal", err)
	}
	// The server quotes the credentials back as AUTH PLAIN sent them.
	noSecret(t, err.Error(), "WR0NG", base64.StdEncoding.EncodeToString([]byte("\x00alerts\x00WR0NG")))

	untrusted := open(t, opener(t, notify.Options{}), "smtp://alerts:right@"+srv.addr+"/?to=oncall@example.com&from=drainpipe@example.com")
	if err := untrusted.Send(t.Context(), sample()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a self-signed certificate not trusted: %v", err)
	}

	plain := startSMTP(t, "alerts", "right", false) // no STARTTLS offered
	d := open(t, o, "smtp://alerts:right@"+plain.addr+"/?to=oncall@example.com&from=drainpipe@example.com")
	if err := d.Send(t.Context(), sample()); !errors.Is(err, alert.ErrRejected) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("no STARTTLS: %v", err)
	}
	if len(plain.messages(t)) != 0 || len(srv.messages(t)) != 0 {
		t.Error("a message was accepted")
	}
}

func TestEmailUnreachableIsRetryable(t *testing.T) {
	addr := freeAddr(t)
	d := open(t, opener(t, notify.Options{}), "smtp://alerts:S3KR1T@"+addr+"/?to=oncall@example.com&from=drainpipe@example.com")
	err := d.Send(t.Context(), sample())
	if err == nil || errors.Is(err, alert.ErrRejected) {
		t.Errorf("connection refused: %v, want retryable", err)
	}
	noSecret(t, err.Error(), "S3KR1T")
}
