package ui_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe/ui"
)

// TestMissingThingsAre404: a rule or a drain that does not exist is a 404 page
// saying what was not found, and no error in the log; an API that fails is
// still a 502, logged as an error.
func TestMissingThingsAre404(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	srv, _ := newServer(t, ui.Config{API: realAPI(t), Logger: log})
	down, _ := newServer(t, ui.Config{Logger: log}) // noAPI: every call fails
	c, downC := browserClient(), browserClient()
	_, token := login(t, c, srv.URL, "", adminToken)
	_, downToken := login(t, downC, down.URL, "", adminToken)
	for _, tc := range []struct {
		name      string
		c         *http.Client
		base      string
		form      url.Values // POST when set
		path      string
		code      int
		want      string // on the page
		errorLogs bool
	}{
		{"a rule", c, srv.URL, nil, "/ui/alerts/nosuch", http.StatusNotFound, `Could not find the alert rule &#34;nosuch&#34;`, false},
		{"muting a rule", c, srv.URL, url.Values{"csrf": {token}, "for": {"1h"}}, "/ui/alerts/nosuch/mute", http.StatusNotFound, "nosuch", false},
		{"testing a rule", c, srv.URL, url.Values{"csrf": {token}}, "/ui/alerts/nosuch/test", http.StatusNotFound, `Could not find the alert rule &#34;nosuch&#34;`, false},
		{"a drain to remove", c, srv.URL, nil, "/ui/drains/nosuch/remove", http.StatusNotFound, `no drain for app &#34;nosuch&#34;`, false},
		{"removing a drain", c, srv.URL, url.Values{"csrf": {token}, "confirm": {"nosuch"}}, "/ui/drains/nosuch/remove", http.StatusNotFound, `no drain for app &#34;nosuch&#34;`, false},
		{"a rule, the API failing", downC, down.URL, nil, "/ui/alerts/nosuch", http.StatusBadGateway, "no API in this test", true},
		{"a drain, the API failing", downC, down.URL, url.Values{"csrf": {downToken}, "confirm": {"nosuch"}}, "/ui/drains/nosuch/remove", http.StatusBadGateway, "no API in this test", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			var resp *http.Response
			var body string
			if tc.form != nil {
				resp, body = postForm(t, tc.c, tc.base+tc.path, tc.form, nil)
			} else {
				resp, body = get(t, tc.c, tc.base+tc.path)
			}
			if resp.StatusCode != tc.code || !strings.Contains(body, tc.want) {
				t.Errorf("%d, want %d and a page saying %s:\n%s", resp.StatusCode, tc.code, tc.want, body)
			}
			if got := strings.Contains(logs.String(), "level=ERROR"); got != tc.errorLogs {
				t.Errorf("an error in the log: %v, want %v:\n%s", got, tc.errorLogs, logs.String())
			}
		})
	}
}
