package notify_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/alert/notify"
)

// Slack's Block Kit, as far as drainpipe uses it
// (https://api.slack.com/reference/block-kit/blocks).
type slackTextObject struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji *bool  `json:"emoji,omitempty"`
}

type slackElem struct {
	Type string          `json:"type"`
	Text json.RawMessage `json:"text"`
	URL  string          `json:"url,omitempty"`
}

type slackBlock struct {
	Type     string            `json:"type"`
	Text     *slackTextObject  `json:"text,omitempty"`
	Fields   []slackTextObject `json:"fields,omitempty"`
	Elements []slackElem       `json:"elements,omitempty"`
	BlockID  string            `json:"block_id,omitempty"`
}

type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

// checkBlocks holds a message to Block Kit's documented limits.
func checkBlocks(m slackMessage) error {
	runes := utf8.RuneCountInString
	if m.Text == "" || runes(m.Text) > 40000 {
		return errors.New("text: want 1 to 40,000 characters")
	}
	if len(m.Blocks) == 0 || len(m.Blocks) > 50 {
		return errors.New("blocks: want 1 to 50")
	}
	for i, b := range m.Blocks {
		switch b.Type {
		case "header":
			if b.Text == nil || b.Text.Type != "plain_text" || b.Text.Text == "" || runes(b.Text.Text) > 150 {
				return fmt.Errorf("block %d: a header is plain_text of 1 to 150 characters", i)
			}
		case "section":
			if b.Text == nil && len(b.Fields) == 0 {
				return fmt.Errorf("block %d: a section needs text or fields", i)
			}
			if b.Text != nil && (b.Text.Type != "mrkdwn" && b.Text.Type != "plain_text" || b.Text.Text == "" || runes(b.Text.Text) > 3000) {
				return fmt.Errorf("block %d: section text of 1 to 3,000 characters", i)
			}
			if len(b.Fields) > 10 {
				return fmt.Errorf("block %d: at most 10 fields", i)
			}
			for _, f := range b.Fields {
				if f.Text == "" || runes(f.Text) > 2000 {
					return fmt.Errorf("block %d: a field of 1 to 2,000 characters", i)
				}
			}
		case "actions":
			if len(b.Elements) == 0 || len(b.Elements) > 25 {
				return fmt.Errorf("block %d: actions hold 1 to 25 elements", i)
			}
			for _, e := range b.Elements {
				var txt slackTextObject
				if e.Type != "button" || json.Unmarshal(e.Text, &txt) != nil || txt.Type != "plain_text" || runes(txt.Text) > 75 || len(e.URL) > 3000 {
					return fmt.Errorf("block %d: a button with plain_text of at most 75 characters and a URL of at most 3,000", i)
				}
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > 10 {
				return fmt.Errorf("block %d: context holds 1 to 10 elements", i)
			}
			for _, e := range b.Elements {
				var s string
				if e.Type != "mrkdwn" || json.Unmarshal(e.Text, &s) != nil || s == "" {
					return fmt.Errorf("block %d: context elements are text objects", i)
				}
			}
		default:
			return fmt.Errorf("block %d: unknown type %q", i, b.Type)
		}
	}
	return nil
}

// slackServer is an incoming webhook at /services/T000/B000/SECRETTOKEN: it
// answers "ok" to a valid message, and Slack's own errors otherwise.
type slackServer struct {
	mu     sync.Mutex
	got    []slackMessage
	status int
	answer string
	header http.Header
}

func (s *slackServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/services/T000/B000/SECRETTOKEN" {
		http.Error(w, "no_service", http.StatusNotFound)
		return
	}
	if r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	var m slackMessage
	if err := decodeStrict(r, &m); err != nil {
		http.Error(w, "invalid_payload: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := checkBlocks(m); err != nil {
		http.Error(w, "invalid_blocks: "+err.Error(), http.StatusBadRequest)
		return
	}
	for k, v := range s.header {
		w.Header()[k] = v
	}
	if s.status != 0 {
		w.WriteHeader(s.status)
		fmt.Fprint(w, s.answer)
		return
	}
	s.got = append(s.got, m)
	fmt.Fprint(w, "ok")
}

func TestSlack(t *testing.T) {
	srv := &slackServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	o := opener(t, notify.Options{})
	d := open(t, o, "slack+"+ts.URL+"/services/T000/B000/SECRETTOKEN")
	noSecret(t, d.String(), "SECRETTOKEN", "B000")
	ctx := t.Context()
	if err := d.Send(ctx, sample()); err != nil {
		t.Fatal(err)
	}
	if err := d.Send(ctx, resolved(sample())); err != nil {
		t.Fatal(err)
	}
	if len(srv.got) != 2 {
		t.Fatalf("%d messages", len(srv.got))
	}
	m := srv.got[0]
	if m.Blocks[0].Text.Text != "[FIRING] h12 code=H12" || !strings.Contains(m.Text, "12 lines matching code=H12") {
		t.Errorf("header %q, text %q", m.Blocks[0].Text.Text, m.Text)
	}
	var all strings.Builder
	for _, b := range m.Blocks {
		if b.Text != nil {
			all.WriteString(b.Text.Text)
		}
		if b.Type == "actions" && b.Elements[0].URL != sample().SearchURL {
			t.Errorf("button URL %s", b.Elements[0].URL)
		}
	}
	text := all.String()
	if strings.Contains(text, "<!channel>") || !strings.Contains(text, "&lt;!channel&gt; &amp; &lt;https://evil.example|click here&gt;") {
		t.Errorf("a log line's mrkdwn was not escaped: %s", text)
	}
	if strings.Count(text, "```") != 2 {
		t.Errorf("a sample's backticks closed the code block: %s", text)
	}
	if !strings.Contains(srv.got[1].Blocks[0].Text.Text, "[RESOLVED]") {
		t.Errorf("resolved header %q", srv.got[1].Blocks[0].Text.Text)
	}
}

func TestSlackErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		answer     string
		header     http.Header
		path       string
		rejected   bool
		retryAfter time.Duration
	}{
		{"channel not found", 404, "channel_not_found", nil, "", true, 0},
		{"archived", 410, "channel_is_archived", nil, "", true, 0},
		{"rate limited", 429, "rate_limited", http.Header{"Retry-After": {"7"}}, "", false, 7 * time.Second},
		{"slack down", 500, "rollup_error", nil, "", false, 0},
		{"wrong path echoed", 0, "", nil, "/services/T000/B000/WRONGSECRET", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &slackServer{status: tc.status, answer: tc.answer, header: tc.header}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			path := "/services/T000/B000/SECRETTOKEN"
			if tc.path != "" {
				path = tc.path
			}
			d := open(t, opener(t, notify.Options{}), "slack+"+ts.URL+path)
			err := d.Send(t.Context(), sample())
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, alert.ErrRejected) != tc.rejected {
				t.Errorf("%v: rejected %v, want %v", err, !tc.rejected, tc.rejected)
			}
			var ra *alert.RetryAfterError
			if got := errors.As(err, &ra); got != (tc.retryAfter > 0) || (got && ra.After != tc.retryAfter) {
				t.Errorf("%v: retry after %v", err, ra)
			}
			noSecret(t, err.Error(), "SECRETTOKEN", "WRONGSECRET")
		})
	}
}

func TestSlackUnreachable(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := "slack+" + ts.URL + "/services/T000/B000/SECRETTOKEN"
	ts.Close()
	err := open(t, opener(t, notify.Options{}), url).Send(t.Context(), sample())
	if err == nil || errors.Is(err, alert.ErrRejected) {
		t.Fatalf("unreachable: %v, want a retryable error", err)
	}
	noSecret(t, err.Error(), "SECRETTOKEN")
}

func TestOpenRefuses(t *testing.T) {
	o := opener(t, notify.Options{})
	for _, raw := range []string{
		"https://hooks.slack.com/services/T/B/S3KR1T",      // no scheme prefix
		"slack+http://hooks.slack.com/services/T/B/S3KR1T", // plain http to another machine
		"slack+https://hooks.slack.com",
		"slack+https://user:S3KR1T@hooks.slack.com/services/x",
		"pagerduty://short",
		"pagerduty://S3KR1TS3KR1TS3KR1TS3KR1TS3KR1T12/path",
		"pagerduty://S3KR1TS3KR1TS3KR1TS3KR1TS3KR1T12?severity=bad",
		"webhook+https://ops.example.com/hook#token=S3KR1T",
		"webhook+https://user:S3KR1T@ops.example.com/hook",
		"smtp://user:S3KR1T@mail.example.com:587/?to=a@example.com",    // no from
		"smtp://user:S3KR1T@mail.example.com:587/?from=a@example.com",  // no to
		"smtp://user:S3KR1T@mail.example.com/?to=a&from=b@example.com", // bad address
		"smtp://user:S3KR1T@mail.example.com/?to=a@example.com&from=b@example.com&tls=none",
		"gopher://x",
		"slack+https://%zzS3KR1T",
	} {
		d, err := o.Open(raw)
		if err == nil {
			t.Errorf("%s opened as %s", raw, d)
			continue
		}
		noSecret(t, err.Error(), "S3KR1T")
	}
	if _, err := notify.NewOpener(notify.Options{PagerDutyURL: "not a url"}); err == nil {
		t.Error("a bad PagerDuty endpoint was taken")
	}
}
