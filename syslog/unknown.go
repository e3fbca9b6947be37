package syslog

import (
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"
)

// Unknown drain tokens are logged so a misconfigured sender can be found (a drain
// added with the wrong --heroku-token, a token Heroku rotated). A token is not a
// secret: Heroku writes it into the HOSTNAME of every line it sends, shows it in
// `heroku drains`, and drainpipe stores it with every line; an unknown one grants
// nothing. Anyone can send made-up tokens, so each is logged at most once per
// window, and at most tokenLogMax distinct ones per window.
const (
	tokenLogWindow = time.Minute
	tokenLogMax    = 100
	tokenLogLen    = 64 // characters of a token shown
)

// tokenLog rate-limits the log of unknown tokens.
type tokenLog struct {
	log *slog.Logger

	mu         sync.Mutex
	start      time.Time      // of the current window
	seen       map[string]int // lines per token logged in this window
	suppressed int            // lines not logged in this window
}

func newTokenLog(log *slog.Logger) *tokenLog {
	return &tokenLog{log: log, seen: map[string]int{}}
}

// unknown records a line whose token names no drain, logging it when its token
// was not logged in this window.
func (l *tokenLog) unknown(token, source, dyno, remote string) {
	now := time.Now()
	l.mu.Lock()
	if now.Sub(l.start) >= tokenLogWindow {
		if l.suppressed > 0 {
			l.log.Warn("more syslog lines with unknown drain tokens were not stored", "lines", l.suppressed,
				"window", tokenLogWindow)
		}
		l.start, l.seen, l.suppressed = now, map[string]int{}, 0
	}
	token = shorten(token)
	_, logged := l.seen[token]
	if logged || len(l.seen) >= tokenLogMax {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	l.seen[token] = 1
	l.mu.Unlock()
	l.log.Warn("syslog line for an unknown drain token, not stored: if the sender is yours, register the token with `drainpipe drains add APP --heroku-token TOKEN`",
		"token", token, "source", shorten(source), "dyno", shorten(dyno), "remote", remote)
}

// shorten cuts what a stranger sent to what a log line needs (slog quotes and
// escapes the rest).
func shorten(s string) string {
	if s == "" {
		return "-"
	}
	if utf8.RuneCountInString(s) <= tokenLogLen {
		return s
	}
	r := []rune(s)
	return string(r[:tokenLogLen]) + "…"
}
