package notify_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/alert/notify"
)

// sample returns a firing notification with hostile bytes in its lines.
func sample() alert.Notification {
	start := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	n := alert.Notification{
		ID: "0123456789abcdef0123456789abcdef", DedupeKey: "drainpipe/h12/code=H12", Event: alert.EventFiring,
		Rule: "h12", App: "myapp", Kind: alert.Match, Query: "code=H12", Condition: "≥ 10 lines",
		Group: map[string]string{"code": "H12"}, GroupLabel: "code=H12", Value: 12, Threshold: 10,
		WindowStart: start, WindowEnd: start.Add(time.Minute), FiringSince: start,
		Title:     "[FIRING] h12 code=H12",
		Summary:   "h12: 12 lines matching code=H12 in myapp, 2026-05-01 10:00:00 – 10:01:00 UTC (code=H12); condition: ≥ 10 lines",
		SearchURL: "https://logs.example.com/ui/search?app=myapp&from=2026-05-01T10%3A00%3A00Z&q=code%3DH12&to=2026-05-01T10%3A01%3A00Z",
		Time:      start.Add(90 * time.Second),
	}
	for i, msg := range []string{
		`at=error code=H12 desc="Request timeout" path="/slow"`,
		`<!channel> & <https://evil.example|click here> ` + "```" + ` done`,
		"héllo wörld, 日本語",
		strings.Repeat("x", 1000) + "…",
		"tab\there",
	} {
		n.Samples = append(n.Samples, alert.Line{Time: start.Add(time.Duration(50-i) * time.Second), App: "myapp", Source: "heroku", Dyno: "router", Message: msg})
	}
	return n
}

func resolved(n alert.Notification) alert.Notification {
	n.Event, n.ID, n.Reason, n.Samples = alert.EventResolved, "fedcba9876543210fedcba9876543210", "recovered", nil
	n.Title = "[RESOLVED] h12 code=H12"
	return n
}

func opener(t *testing.T, opt notify.Options) *notify.Opener {
	t.Helper()
	o, err := notify.NewOpener(opt)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func open(t *testing.T, o *notify.Opener, url string) alert.Destination {
	t.Helper()
	d, err := o.Open(url)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return d
}

// decodeStrict decodes a JSON body into v, refusing fields v does not have: the
// servers check the shape each API documents, not just that it is JSON.
func decodeStrict(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func noSecret(t *testing.T, what string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(what, s) {
			t.Errorf("%q holds the secret %q", what, s)
		}
	}
}

func body(r *http.Request) []byte {
	var b bytes.Buffer
	_, _ = b.ReadFrom(r.Body)
	return b.Bytes()
}
