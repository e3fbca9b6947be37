package httpd_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/alert/alerttest"
	"github.com/drainpipe/drainpipe/alert/jskv"
	"github.com/drainpipe/drainpipe/alert/notify"
	"github.com/drainpipe/drainpipe/api"
	"github.com/drainpipe/drainpipe/httpd"
	"github.com/drainpipe/drainpipe/journal"
)

const token = "admin-token"

// alertNow is the alert tests' clock. The backtest's windows are aligned on the
// rule's window (2 minutes) and end grace (30 s) before the watermark, so how many
// fit in an hour depends on the time of day: a fixed clock makes it 30, from the
// window holding 09:01 (09:00) to the last one ending by 10:00:30 (10:00).
var alertNow = time.Date(2026, 11, 28, 10, 1, 0, 0, time.UTC)

func alertServer(t *testing.T) *httptest.Server {
	t.Helper()
	now := func() time.Time { return alertNow }
	ctx := context.Background()
	j, err := journal.Open(ctx, journal.Config{Dir: filepath.Join(t.TempDir(), "journal")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	store, err := jskv.Open(ctx, j.JetStream(), 1)
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := alert.NewSealer(make([]byte, alert.KeySize))
	opener, _ := notify.NewOpener(notify.Options{})
	file := alert.Rule{Name: "from-file", App: "shop", Preset: "crashes", Notify: []string{"pagerduty://abcdef0123456789abcdef0123456789"}}
	svc, err := alert.New(ctx, alert.Config{Searcher: &alerttest.Archive{Mark: now}, Store: store, Opener: opener, Sealer: sealer,
		FileRules: []alert.Rule{file}, Grace: 30 * time.Second, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(token))
	srv := httptest.NewServer(httpd.New(httpd.Config{Alerts: svc, AdminTokenHash: sum[:], Now: now}, nil))
	t.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, srv *httptest.Server, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// TestAlertEndpoints: every alert endpoint answers good requests with the API's
// shapes (destinations redacted), and bad ones with a clear 4xx, storing nothing.
func TestAlertEndpoints(t *testing.T) {
	srv := alertServer(t)
	good := `{"name":"h12","app":"shop","query":"H12","threshold":10,"window":"2m","group_by":["dyno"],"renotify":"1h",
		"mute":{"daily":["22:00-06:00"],"timezone":"Europe/Paris"},
		"notify":["slack+https://hooks.slack.com/services/T000/B000/S3KR1T"]}`
	for _, tc := range []struct {
		method, path, body string
		code               int
		want               string // in the answer
	}{
		{"POST", "/api/alerts", good, 201, `"notify":["slack+https://hooks.slack.com/services/***"]`},
		{"POST", "/api/alerts", good, 200, `"replaced":true`},
		{"POST", "/api/alerts?replace=false", good, 409, "exists"},
		{"POST", "/api/alerts?replace=maybe", good, 400, "replace"},
		{"POST", "/api/alerts?replace=false", strings.Replace(good, `"h12"`, `"h13"`, 1), 201, `"name":"h13"`},
		{"POST", "/api/alerts?replace=false", `{"name":"from-file","app":"shop","query":"H12","notify":["pagerduty://abcdef0123456789abcdef0123456789"]}`, 409, "alerts file"},
		{"DELETE", "/api/alerts/h13", "", 200, `"name":"h13"`},
		{"GET", "/api/alerts", "", 200, `"name":"from-file"`},
		{"GET", "/api/alerts/h12", "", 200, `"condition":"≥ 10 lines"`},
		{"GET", "/api/alerts/h12", "", 200, `"daily":["22:00-06:00"]`},
		{"GET", "/api/alerts/nope", "", 404, "not found"},
		{"POST", "/api/alerts", `{"name":"x"`, 400, "request body"},
		{"POST", "/api/alerts", `{"name":"x","qurey":"H12"}`, 400, `unknown field \"qurey\"`},
		{"POST", "/api/alerts", `{"name":"x","app":"shop","query":"H12","window":"5 min","notify":["pagerduty://abcdef0123456789abcdef0123456789"]}`, 400, "window"},
		{"POST", "/api/alerts", `{"name":"x","app":"shop","query":"H12","notify":["gopher://S3KR1T"]}`, 400, "notify #1"},
		{"POST", "/api/alerts", `{"name":"x","app":"shop","metric":"router.service","agg":"p95","notify":["pagerduty://abcdef0123456789abcdef0123456789"]}`, 400, "metric rules need the metrics"},
		{"POST", "/api/alerts", `{"name":"from-file","app":"shop","query":"H12","notify":["pagerduty://abcdef0123456789abcdef0123456789"]}`, 409, "alerts file"},
		{"DELETE", "/api/alerts/from-file", "", 409, "alerts file"},
		{"POST", "/api/alerts/h12/mute", `{"for":"2h"}`, 200, `"muted":true`},
		{"POST", "/api/alerts/h12/mute", `{"for":"0s"}`, 200, `"muted":false`},
		{"POST", "/api/alerts/h12/mute", `{"for":"2h","until":"2030-01-01T00:00:00Z"}`, 400, "not both"},
		{"POST", "/api/alerts/h12/mute", `{"for":"-1h"}`, 400, "for"},
		{"POST", "/api/alerts/from-file/mute", `{"until":"2030-01-01T00:00:00Z"}`, 200, `"muted_until":"2030-01-01T00:00:00Z"`},
		{"POST", "/api/alerts/h12/test", `{"since":"1h"}`, 200, `"windows":30`},
		{"POST", "/api/alerts/h12/test", `{"since":"yesterday-ish"}`, 400, "since"},
		{"POST", "/api/alerts/h12/test", `{"since":"720h"}`, 400, "at most"},
		{"GET", "/api/alerts/h12/history?limit=2", "", 200, `"type":"mute"`},
		{"GET", "/api/alerts/h12/history?limit=x", "", 400, "limit"},
		{"GET", "/api/alert-presets", "", 200, `"name":"router-errors"`},
		{"DELETE", "/api/alerts/h12", "", 200, `"name":"h12"`},
		{"DELETE", "/api/alerts/h12", "", 404, "not found"},
	} {
		code, body := call(t, srv, tc.method, tc.path, tc.body)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s %s: %d %s\nwant %d with %s", tc.method, tc.path, tc.body, code, body, tc.code, tc.want)
		}
		if strings.Contains(body, "S3KR1T") {
			t.Errorf("%s %s: the answer holds the secret: %s", tc.method, tc.path, body)
		}
	}
	code, body := call(t, srv, "GET", "/api/alerts", "")
	var all []api.AlertStatus
	if err := json.Unmarshal([]byte(body), &all); code != 200 || err != nil || len(all) != 1 || all[0].Rule.Source != "file" {
		t.Errorf("after the requests: %d %s", code, body)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/alerts", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 401 {
		t.Errorf("without the token: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
}
