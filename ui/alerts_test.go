package ui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/drainpipe/drainpipe/ui"
)

// TestAddRuleRefusesATakenName: the add form adds only. A name an API rule has
// is refused with a 409 that says so and links to the rule, the form keeps what
// was typed, and the rule is left as it was; so is a name of the alerts file.
func TestAddRuleRefusesATakenName(t *testing.T) {
	srv, _ := newServer(t, ui.Config{API: realAPI(t)})
	c := browserClient()
	_, token := login(t, c, srv.URL, "", adminToken)
	add := func(name, query string) (*http.Response, string) {
		return postForm(t, c, srv.URL+"/ui/alerts", url.Values{"csrf": {token}, "name": {name}, "app": {"*"}, "query": {query},
			"threshold": {"10"}, "window": {"5m"}, "notify": {"pagerduty://abcdef0123456789abcdef0123456789"}}, nil)
	}
	if resp, body := add("h12", "H12"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/alerts/h12" {
		t.Fatalf("the first add: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	for _, tc := range []struct {
		name string
		want []string // on the page
	}{
		{"h12", []string{`A rule named &#34;h12&#34; already exists`, "remove the existing rule", `href="/ui/alerts/h12"`}},
		{"from-file", []string{`A rule named &#34;from-file&#34; already exists in the alerts file, line 3`, "edit the rule in the alerts file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := add(tc.name, "R14")
			if resp.StatusCode != http.StatusConflict {
				t.Errorf("adding a rule of a taken name: %d %s, want 409", resp.StatusCode, resp.Header.Get("Location"))
			}
			for _, want := range append(tc.want, `name="name" value="`+tc.name+`"`, `name="query" value="R14"`) {
				if !strings.Contains(body, want) {
					t.Errorf("the page does not say %s:\n%s", want, body)
				}
			}
		})
	}
	// The rule is the first one still.
	if _, body := get(t, c, srv.URL+"/ui/alerts/h12"); !strings.Contains(body, `<dd class="mono">H12</dd>`) || strings.Contains(body, "R14") {
		t.Errorf("the rule was changed:\n%s", body)
	}
}

// TestAddRuleRaceHasOneWinner: users adding one name at the same moment get one
// rule, the first stored; every other add is refused, none replaces it. (The form
// adds create-only; that a create loses to a name stored by a node that has not
// yet told this one is alert's TestCreateIsAddOnly.)
func TestAddRuleRaceHasOneWinner(t *testing.T) {
	srv, _ := newServer(t, ui.Config{API: realAPI(t)})
	c := browserClient()
	_, token := login(t, c, srv.URL, "", adminToken)
	const adds = 8
	codes := make([]int, adds)
	var wg sync.WaitGroup
	for i := range adds {
		form := url.Values{"csrf": {token}, "name": {"race"}, "app": {"*"}, "query": {fmt.Sprintf("H%d", 10+i)},
			"threshold": {"10"}, "window": {"5m"}, "notify": {"pagerduty://abcdef0123456789abcdef0123456789"}}
		wg.Go(func() {
			resp, err := c.PostForm(srv.URL+"/ui/alerts", form)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	won := -1
	for i, code := range codes {
		switch {
		case code == http.StatusSeeOther && won < 0:
			won = i
		case code != http.StatusConflict:
			t.Errorf("add #%d: %d (answers %v), want one 303 and the rest 409", i, code, codes)
		}
	}
	if won < 0 {
		t.Fatalf("no add won: %v", codes)
	}
	if _, body := get(t, c, srv.URL+"/ui/alerts/race"); !strings.Contains(body, fmt.Sprintf(`<dd class="mono">H%d</dd>`, 10+won)) {
		t.Errorf("the rule is not the winner's (H%d):\n%s", 10+won, body)
	}
}

// TestRuleTestSpan: "test against the last 24 h" tests a rule of short windows
// over the most windows a backtest takes, and says which span it tested.
func TestRuleTestSpan(t *testing.T) {
	srv, _ := newServer(t, ui.Config{API: realAPI(t)})
	c := browserClient()
	_, token := login(t, c, srv.URL, "", adminToken)
	for _, tc := range []struct {
		window, span string
		shortened    bool
	}{
		{"1m", "24h", false},
		{"9s", "24h", false},
		{"5s", "13h53m20s", true},
		{"1s", "2h46m40s", true},
	} {
		t.Run(tc.window, func(t *testing.T) {
			name := "h12-" + tc.window
			resp, body := postForm(t, c, srv.URL+"/ui/alerts", url.Values{"csrf": {token}, "name": {name}, "app": {"*"}, "query": {"H12"},
				"threshold": {"10"}, "window": {tc.window}, "notify": {"pagerduty://abcdef0123456789abcdef0123456789"}}, nil)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("add the rule: %d\n%s", resp.StatusCode, body)
			}
			if _, page := get(t, c, srv.URL+"/ui/alerts/"+name); !strings.Contains(page, "Test against the last "+tc.span+"</button>") {
				t.Errorf("the test button does not say %s:\n%s", tc.span, page)
			}
			resp, body = postForm(t, c, srv.URL+"/ui/alerts/"+name+"/test", url.Values{"csrf": {token}}, nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Over the last "+tc.span+" it would have fired 0 times") {
				t.Errorf("test: %d, want 200 and a backtest over the last %s:\n%s", resp.StatusCode, tc.span, body)
			}
			if got := strings.Contains(body, "Not 24 h: a test takes at most 10\u202f000 windows"); got != tc.shortened {
				t.Errorf("the page says the span was shortened: %v, want %v", got, tc.shortened)
			}
		})
	}
}
