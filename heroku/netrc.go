package heroku

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// ErrNoAPIKey means no Heroku API key was given or found.
var ErrNoAPIKey = errors.New("no Heroku API key")

// apiHost is the machine whose password in ~/.netrc is the API key: `heroku login`
// writes it there.
const apiHost = "api.heroku.com"

// APIKeyFromEnv finds the user's Heroku API key the way the Heroku CLI does:
// HEROKU_API_KEY from getenv, else the password of the api.heroku.com machine (or of
// the `default` entry) in the netrc file at netrcPath. An empty netrcPath or a
// missing file means no netrc. The error names both places when neither has a key.
func APIKeyFromEnv(getenv func(string) string, netrcPath string) (string, error) {
	if k := strings.TrimSpace(getenv("HEROKU_API_KEY")); k != "" {
		return k, nil
	}
	where := "no netrc file given"
	if netrcPath != "" {
		data, err := os.ReadFile(netrcPath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			where = netrcPath + " does not exist"
		case err != nil:
			return "", fmt.Errorf("read netrc: %w", err)
		default:
			key, err := netrcPassword(string(data), apiHost)
			if err != nil {
				return "", fmt.Errorf("%s: %w", netrcPath, err)
			}
			if key != "" {
				return key, nil
			}
			where = netrcPath + " has no password for " + apiHost
		}
	}
	return "", fmt.Errorf("%w: HEROKU_API_KEY is not set and %s; run `heroku login` or set HEROKU_API_KEY",
		ErrNoAPIKey, where)
}

// netrcPassword returns the password netrc(5) gives for host: that of the `machine
// host` entry, else that of the `default` entry, else "".
//
// The grammar is netrc(5)'s: tokens separated by spaces, tabs or newlines, so an
// entry may sit on one line or spread over several; `macdef NAME` is followed by
// lines up to an empty line, which are skipped. netrc has no quoting: a `"` is an
// ordinary character, as in ftp(1) and the Heroku CLI. Comments (`#` to the end of
// the line where a keyword is expected) are an extension that curl and Python accept
// and that the Heroku CLI keeps when it rewrites the file.
func netrcPassword(text, host string) (string, error) {
	var (
		p            = netrcLexer{text: text, line: 1}
		entry        string // the machine of the current entry, "\x00default" for default
		machine, def string
		haveMachine  bool
		haveDefault  bool
	)
	for {
		tok, ok := p.keyword()
		if !ok {
			break
		}
		switch tok {
		case "machine":
			name, ok := p.value()
			if !ok {
				return "", fmt.Errorf("line %d: machine without a name", p.line)
			}
			entry = name
		case "default":
			entry = "\x00default"
		case "login", "password", "account":
			val, ok := p.value()
			if !ok {
				return "", fmt.Errorf("line %d: %s without a value", p.line, tok)
			}
			if entry == "" {
				return "", fmt.Errorf("line %d: %s before any machine", p.line, tok)
			}
			if tok != "password" {
				continue
			}
			// The first entry for a machine wins, as in ftp(1) and curl.
			if entry == host && !haveMachine {
				machine, haveMachine = val, true
			} else if entry == "\x00default" && !haveDefault {
				def, haveDefault = val, true
			}
		case "macdef":
			if _, ok := p.value(); !ok {
				return "", fmt.Errorf("line %d: macdef without a name", p.line)
			}
			// As in ftp(1), the entry goes on after the macro's body.
			p.skipMacro()
		default:
			// The word itself stays out of the error: it may be a stray piece of a secret.
			return "", fmt.Errorf("line %d: unexpected word where netrc expects machine, default, login, password, account or macdef", p.line)
		}
	}
	if haveMachine {
		return machine, nil
	}
	return def, nil
}

// netrcLexer splits a netrc file into tokens, keeping the line number for errors.
type netrcLexer struct {
	text string
	pos  int
	line int
}

// keyword returns the next token where a keyword is expected, skipping comments.
func (p *netrcLexer) keyword() (string, bool) {
	for {
		tok, ok := p.value()
		if !ok || !strings.HasPrefix(tok, "#") {
			return tok, ok
		}
		p.skipLine()
	}
}

// value returns the next whitespace-delimited token.
func (p *netrcLexer) value() (string, bool) {
	for p.pos < len(p.text) && isSpace(p.text[p.pos]) {
		if p.text[p.pos] == '\n' {
			p.line++
		}
		p.pos++
	}
	start := p.pos
	for p.pos < len(p.text) && !isSpace(p.text[p.pos]) {
		p.pos++
	}
	return p.text[start:p.pos], p.pos > start
}

// skipLine skips to the end of the current line.
func (p *netrcLexer) skipLine() {
	if i := strings.IndexByte(p.text[p.pos:], '\n'); i >= 0 {
		p.pos += i
	} else {
		p.pos = len(p.text)
	}
}

// skipMacro skips a macdef's body: the rest of its line, then lines up to and
// including the first empty one.
func (p *netrcLexer) skipMacro() {
	p.skipLine()
	for p.pos < len(p.text) {
		p.pos++ // the newline
		p.line++
		end := strings.IndexByte(p.text[p.pos:], '\n')
		if end < 0 {
			p.pos = len(p.text)
			return
		}
		if strings.TrimRight(p.text[p.pos:p.pos+end], "\r") == "" {
			p.pos += end
			return
		}
		p.pos += end
	}
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r'
}
