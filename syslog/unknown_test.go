package syslog_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drainpipe/drainpipe/syslog"
)

// records is a slog.Handler that keeps what is logged at warning level and above.
type records struct {
	mu   sync.Mutex
	msgs []string
}

func (r *records) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Message)
	rec.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%q", a.Key, a.Value.String()); return true })
	r.mu.Lock()
	r.msgs = append(r.msgs, b.String())
	r.mu.Unlock()
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

// with returns the records that contain every one of parts.
func (r *records) with(parts ...string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
next:
	for _, m := range r.msgs {
		for _, p := range parts {
			if !strings.Contains(m, p) {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}

func tokenLine(token string, i int) string {
	return fmt.Sprintf("<190>1 2026-11-22T03:00:00Z %s app web.%d - - line %d\n", token, i, i)
}

// Lines with a token no drain has are logged with the token, so a misconfigured
// sender can be found: once per token per minute, however many lines it sends.
func TestUnknownTokenLogged(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		logs := &records{}
		s, client, reg := pipeServer(t, syslog.Config{Logger: slog.New(logs), IdleTimeout: time.Hour}, newCollector(0))
		const wrong, other = "d.00000000-0000-0000-0000-00000000beef", "d.11111111-0000-0000-0000-000000000000"
		for i := range 50 {
			if _, err := client.Write([]byte(tokenLine(wrong, i))); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := client.Write([]byte(tokenLine(other, 1))); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := logs.with("unknown drain token", wrong, "--heroku-token"); len(got) != 1 {
			t.Fatalf("logged %d times for 50 lines of one unknown token, want once with the token: %q", len(got), logs.msgs)
		}
		if got := logs.with("unknown drain token", other); len(got) != 1 {
			t.Errorf("a second unknown token: logged %d times, want once", len(got))
		}
		time.Sleep(time.Minute)
		if _, err := client.Write([]byte(tokenLine(wrong, 99))); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := logs.with("unknown drain token", wrong); len(got) != 2 {
			t.Errorf("a minute later: logged %d times in all, want twice", len(got))
		}
		if got := logs.with("were not stored", `lines="49"`); len(got) != 1 {
			t.Errorf("the lines not logged in the first minute are not summed up: %q", logs.msgs)
		}
		if n := metric(t, reg, "drainpipe_syslog_unknown_token_lines_total"); n != 52 {
			t.Errorf("unknown-token lines counted %v, want 52", n)
		}
		client.Close()
		s.Close()
	})
}

// Made-up tokens by the thousand cost a bounded number of log lines.
func TestUnknownTokenLogBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		logs := &records{}
		s, client, _ := pipeServer(t, syslog.Config{Logger: slog.New(logs)}, newCollector(0))
		for i := range 1000 {
			if _, err := client.Write([]byte(tokenLine(fmt.Sprintf("made-up-%d-%s", i, strings.Repeat("z", 300)), i))); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		got := logs.with("unknown drain token")
		if len(got) != 100 {
			t.Errorf("1,000 made-up tokens logged %d times, want 100 (the cap per minute)", len(got))
		}
		for _, m := range got {
			if len(m) > 600 {
				t.Fatalf("a made-up token's log line is %d bytes: %q", len(m), m)
			}
		}
		client.Close()
		s.Close()
	})
}
