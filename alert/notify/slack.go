package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/drainpipe/drainpipe/alert"
)

// Slack posts to a Slack incoming webhook (https://api.slack.com/messaging/webhooks):
// a `text` for the notification preview and `blocks` (Block Kit) for the message.
type Slack struct {
	o  *Opener
	ep endpoint
}

// slack opens slack+https://hooks.slack.com/services/T…/B…/…; slack+http:// is
// taken for a server on this machine only (tests).
func (o *Opener) slack(raw string) (*Slack, error) {
	u, err := parse(raw, "slack")
	if err != nil {
		return nil, err
	}
	scheme := strings.TrimPrefix(strings.ToLower(u.Scheme), "slack+")
	if scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, errors.New("slack destination: use slack+https:// (plain http only to this machine)")
	}
	if u.Host == "" || u.Path == "" || u.Path == "/" || u.User != nil {
		return nil, errors.New("slack destination: want the incoming webhook URL, slack+https://hooks.slack.com/services/T…/B…/…")
	}
	u.Scheme = scheme
	// The T…, B… and secret segments are scrubbed each (urlSecrets): Slack's
	// answers, or a proxy's, may quote one alone.
	return &Slack{o: o, ep: endpoint{url: u.String(), name: redactPath("slack+"+scheme, u), secrets: newSecrets(urlSecrets(u)...)}}, nil
}

// String is the destination with its webhook path redacted.
func (s *Slack) String() string { return s.ep.name }

// Send posts the notification. Slack answers 200 "ok"; its errors are 4xx with a
// word (invalid_payload, channel_not_found, channel_is_archived, action_prohibited),
// and 429 with Retry-After.
func (s *Slack) Send(ctx context.Context, n alert.Notification) error {
	body, err := json.Marshal(slackMessage(n))
	if err != nil {
		return fmt.Errorf("%w: encode slack message: %v", alert.ErrRejected, err)
	}
	_, err = post(ctx, s.o.opt.HTTPClient, s.ep, body, nil)
	return err
}

// Block Kit limits (https://api.slack.com/reference/block-kit/blocks).
const (
	slackHeaderMax  = 150
	slackTextMax    = 3000
	slackFieldMax   = 2000
	slackButtonMax  = 75
	slackURLMax     = 3000
	slackPreviewMax = 4000
)

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// slackButton is an actions block's button element.
type slackButton struct {
	Type string    `json:"type"`
	Text slackText `json:"text"`
	URL  string    `json:"url"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []any       `json:"elements,omitempty"` // buttons (actions), text objects (context)
}

type slackPayload struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

func slackMessage(n alert.Notification) slackPayload {
	icon := map[string]string{alert.EventFiring: ":rotating_light:", alert.EventRenotify: ":rotating_light:", alert.EventResolved: ":white_check_mark:"}[n.Event]
	p := slackPayload{Text: clip(slackEscape(n.Summary), slackPreviewMax)}
	p.Blocks = append(p.Blocks,
		slackBlock{Type: "header", Text: &slackText{Type: "plain_text", Text: clip(n.Title, slackHeaderMax)}},
		slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: clip(icon+" "+slackEscape(n.Summary), slackTextMax)}},
		slackBlock{Type: "section", Fields: slackFields(n)},
	)
	if len(n.Samples) > 0 {
		var b strings.Builder
		for _, l := range n.Samples {
			fmt.Fprintf(&b, "%s %s[%s]: %s\n", l.Time.UTC().Format("15:04:05.000"), l.Source, l.Dyno, l.Message)
		}
		code := strings.ReplaceAll(slackEscape(b.String()), "```", "'''")
		p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: "```" + clip(code, slackTextMax-8) + "```"}})
	}
	if n.SearchURL != "" && len(n.SearchURL) <= slackURLMax {
		label := "Open the search"
		if n.Kind == alert.Metric {
			label = "Open the graph"
		}
		p.Blocks = append(p.Blocks, slackBlock{Type: "actions", Elements: []any{
			slackButton{Type: "button", Text: slackText{Type: "plain_text", Text: clip(label, slackButtonMax)}, URL: n.SearchURL}}})
	}
	p.Blocks = append(p.Blocks, slackBlock{Type: "context", Elements: []any{
		slackText{Type: "mrkdwn", Text: clip("drainpipe · "+slackEscape(n.DedupeKey)+" · "+n.ID, slackTextMax)}}})
	return p
}

func slackFields(n alert.Notification) []slackText {
	app := n.App
	if app == "" {
		app = "every app"
	}
	value := strconv.FormatFloat(n.Value, 'g', 6, 64)
	fields := []slackText{
		{Type: "mrkdwn", Text: "*App*\n" + slackEscape(app)},
		{Type: "mrkdwn", Text: "*Value*\n" + value},
		{Type: "mrkdwn", Text: "*Condition*\n" + slackEscape(n.Condition)},
		{Type: "mrkdwn", Text: "*Window*\n" + n.WindowStart.UTC().Format("2006-01-02 15:04:05") + " – " + n.WindowEnd.UTC().Format("15:04:05") + " UTC"},
	}
	if n.GroupLabel != "" {
		fields = append(fields, slackText{Type: "mrkdwn", Text: "*Group*\n" + slackEscape(n.GroupLabel)})
	}
	if n.Query != "" {
		fields = append(fields, slackText{Type: "mrkdwn", Text: "*Query*\n`" + slackEscape(strings.ReplaceAll(n.Query, "`", "'")) + "`"})
	}
	for i := range fields {
		fields[i].Text = clip(fields[i].Text, slackFieldMax)
	}
	return fields
}

// slackEscape escapes the three characters Slack's mrkdwn reads as control
// characters, so a log line can neither mention @channel nor forge a link.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// clip cuts s to at most max characters, ending with "…" when cut.
func clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}
