package notify

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe/alert"
)

// Email sends each notification as a plain-text e-mail over SMTP: STARTTLS (refused
// without it) and AUTH PLAIN on smtp://, TLS from the first byte on smtps://.
type Email struct {
	o                *Opener
	host, port       string
	user, pass       string
	from             *mail.Address
	to               []*mail.Address
	implicitTLS, tls bool
	name             string
	// secrets are the password's forms a server could quote back in an error.
	secrets secrets
}

// smtp opens smtp://user:pass@host:587/?to=a@example.com&to=b@example.com&from=c@example.com
// (to may also be comma-separated). smtps:// (port 465 by default) speaks TLS from
// the start. ?tls=none allows a plain connection, without credentials only (a
// relay on this machine or network).
func (o *Opener) smtp(raw string) (*Email, error) {
	u, err := parse(raw, "smtp")
	if err != nil {
		return nil, err
	}
	e := &Email{o: o, host: u.Hostname(), port: u.Port(), implicitTLS: strings.EqualFold(u.Scheme, "smtps"), tls: true}
	if e.port == "" {
		e.port = map[bool]string{true: "465", false: "587"}[e.implicitTLS]
	}
	if e.host == "" {
		return nil, errors.New("smtp destination: want smtp://user:pass@host:587/?to=…&from=…")
	}
	if u.User != nil {
		e.user = u.User.Username()
		e.pass, _ = u.User.Password()
		if e.pass != "" {
			// As written in the URL, as sent, and inside AUTH PLAIN's initial
			// response (an empty identity, the user, the password).
			_, escaped, _ := strings.Cut(u.User.String(), ":")
			plain := base64.StdEncoding.EncodeToString([]byte("\x00" + e.user + "\x00" + e.pass))
			e.secrets = newSecrets(e.pass, escaped, plain)
		}
	}
	q := u.Query()
	switch q.Get("tls") {
	case "":
	case "none":
		if e.user != "" || e.implicitTLS {
			return nil, errors.New("smtp destination: tls=none is for a relay without credentials; with a user, STARTTLS is required")
		}
		e.tls = false
	default:
		return nil, errors.New("smtp destination: tls takes only none")
	}
	if e.from, err = mail.ParseAddress(q.Get("from")); err != nil {
		return nil, errors.New("smtp destination: from: want an address, ?from=drainpipe@example.com")
	}
	for _, v := range q["to"] {
		for _, a := range strings.Split(v, ",") {
			addr, err := mail.ParseAddress(strings.TrimSpace(a))
			if err != nil {
				return nil, fmt.Errorf("smtp destination: to %q is not an address", a)
			}
			e.to = append(e.to, addr)
		}
	}
	if len(e.to) == 0 || len(e.to) > 50 {
		return nil, errors.New("smtp destination: give 1 to 50 recipients, ?to=oncall@example.com")
	}
	userPart := ""
	if e.user != "" {
		userPart = e.user + ":***@"
	}
	tos := make([]string, len(e.to))
	for i, a := range e.to {
		tos[i] = a.Address
	}
	e.name = fmt.Sprintf("%s://%s%s/?to=%s&from=%s", strings.ToLower(u.Scheme), userPart, net.JoinHostPort(e.host, e.port), strings.Join(tos, ","), e.from.Address)
	return e, nil
}

// String shows the server and addresses, never the password.
func (e *Email) String() string { return e.name }

// Send delivers the message to every recipient in one SMTP transaction. A 5xx reply
// (bad credentials, unknown mailbox) is a refusal; 4xx and network errors are
// retried.
func (e *Email) Send(ctx context.Context, n alert.Notification) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	c, err := e.dial(ctx, deadline)
	if err != nil {
		return e.classify("connect", err)
	}
	defer c.Close()
	if err := e.session(c, n); err != nil {
		return err
	}
	_ = c.Quit()
	return nil
}

func (e *Email) dial(ctx context.Context, deadline time.Time) (*smtp.Client, error) {
	addr := net.JoinHostPort(e.host, e.port)
	d := &net.Dialer{Deadline: deadline}
	var conn net.Conn
	var err error
	if e.implicitTLS {
		conn, err = (&tls.Dialer{NetDialer: d, Config: e.tlsConfig()}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(deadline) // the whole session shares the send's deadline
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

func (e *Email) tlsConfig() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if e.o.opt.TLSConfig != nil {
		cfg = e.o.opt.TLSConfig.Clone()
	}
	cfg.ServerName = e.host
	return cfg
}

// session says hello, secures and authenticates the connection, and sends n.
func (e *Email) session(c *smtp.Client, n alert.Notification) error {
	if err := c.Hello(e.o.opt.HeloName); err != nil {
		return e.classify("EHLO", err)
	}
	if e.tls && !e.implicitTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("%w: %s offers no STARTTLS; drainpipe sends no mail in clear (use ?tls=none only for a relay without credentials)", alert.ErrRejected, e.name)
		}
		if err := c.StartTLS(e.tlsConfig()); err != nil {
			return e.classify("STARTTLS", err)
		}
	}
	if e.user != "" {
		if ok, mechs := c.Extension("AUTH"); !ok || !strings.Contains(" "+strings.ToUpper(mechs)+" ", " PLAIN ") {
			return fmt.Errorf("%w: %s offers no AUTH PLAIN", alert.ErrRejected, e.name)
		}
		if err := c.Auth(smtp.PlainAuth("", e.user, e.pass, e.host)); err != nil {
			return e.classify("AUTH", err)
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return e.classify("MAIL FROM", err)
	}
	for _, to := range e.to {
		if err := c.Rcpt(to.Address); err != nil {
			return e.classify("RCPT TO "+to.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return e.classify("DATA", err)
	}
	if _, err := w.Write(e.message(n)); err != nil {
		return e.classify("DATA", err)
	}
	if err := w.Close(); err != nil {
		return e.classify("DATA", err)
	}
	return nil
}

// classify turns an SMTP error into a refusal (5xx) or a retryable error, never
// quoting the password.
func (e *Email) classify(step string, err error) error {
	msg := e.secrets.scrub(err.Error())
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return fmt.Errorf("%w: %s %s: %s", alert.ErrRejected, e.name, step, msg)
	}
	return fmt.Errorf("%s %s: %s", e.name, step, msg)
}

// message is the whole RFC 5322 message, its body quoted-printable UTF-8.
func (e *Email) message(n alert.Notification) []byte {
	var b strings.Builder
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", (&mail.Address{Name: "drainpipe", Address: e.from.Address}).String())
	tos := make([]string, len(e.to))
	for i, a := range e.to {
		tos[i] = a.String()
	}
	h("To", strings.Join(tos, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", oneLine(n.Title)))
	h("Date", n.Time.Format(time.RFC1123Z))
	h("Message-ID", "<"+n.ID+"@drainpipe>")
	thread := sha256.Sum256([]byte(n.DedupeKey))
	h("References", "<"+hex.EncodeToString(thread[:16])+"@drainpipe>") // one thread per rule and group
	h("X-Drainpipe-Event", n.Event)
	h("X-Drainpipe-Dedupe-Key", mime.QEncoding.Encode("utf-8", oneLine(n.DedupeKey)))
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b) // text mode: its line breaks are CRLF
	_, _ = qp.Write([]byte(emailBody(n)))
	_ = qp.Close()
	return []byte(b.String())
}

// emailBody is the message's text.
func emailBody(n alert.Notification) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", n.Summary)
	app := n.App
	if app == "" {
		app = "every app"
	}
	fmt.Fprintf(&b, "Rule:      %s (%s)\nApp:       %s\nCondition: %s\nValue:     %s\n", n.Rule, n.Kind, app, n.Condition, strconv.FormatFloat(n.Value, 'g', 6, 64))
	fmt.Fprintf(&b, "Window:    %s – %s UTC\n", n.WindowStart.UTC().Format("2006-01-02 15:04:05"), n.WindowEnd.UTC().Format("15:04:05"))
	if n.GroupLabel != "" {
		fmt.Fprintf(&b, "Group:     %s\n", n.GroupLabel)
	}
	if n.Query != "" {
		fmt.Fprintf(&b, "Query:     %s\n", n.Query)
	}
	if n.SearchURL != "" {
		fmt.Fprintf(&b, "\nOpen in drainpipe: %s\n", n.SearchURL)
	}
	if len(n.Samples) > 0 {
		b.WriteString("\nMatching lines (newest first):\n")
		for _, l := range n.Samples {
			fmt.Fprintf(&b, "  %s %s[%s]: %s\n", l.Time.UTC().Format(time.RFC3339Nano), l.Source, l.Dyno, oneLine(l.Message))
		}
	}
	fmt.Fprintf(&b, "\n-- \ndrainpipe alert %s · %s\n", n.DedupeKey, n.ID)
	return b.String()
}

// oneLine keeps a header or a sample on one line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || (r < 0x20 && r != '\t') || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
