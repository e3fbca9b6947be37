package notify_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/alert/notify"
)

// TestAnswersAreScrubbed: a destination that quotes its URL's secret parts back
// in a refusal (a token alone, a query value, an unescaped or JSON-escaped path)
// gives an error that keeps the status and the rest of the answer, never the
// secret, for every kind of destination that speaks HTTP.
func TestAnswersAreScrubbed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		url     string // after the server's address; pagerduty:// URLs are whole
		status  int
		answer  string
		secrets []string
		keep    string // a part of the answer that is no secret and stays
	}{
		{"webhook path token", "webhook+{srv}/svc/v1/XYZTOKEN777", 403, "invalid token XYZTOKEN777", []string{"XYZTOKEN777"}, "403 invalid token"},
		{"webhook path token, retried", "webhook+{srv}/svc/v1/XYZTOKEN777", 503, "XYZTOKEN777 is over quota", []string{"XYZTOKEN777"}, "is over quota"},
		{"webhook single segment", "webhook+{srv}/LONETOKEN42", 404, "no hook LONETOKEN42", []string{"LONETOKEN42"}, "no hook"},
		{"webhook query value", "webhook+{srv}/in?token=QUERYSECRET9&team=ops", 401, "bad token QUERYSECRET9 for team ops", []string{"QUERYSECRET9"}, "for team ops"},
		{"webhook unescaped segment", "webhook+{srv}/hooks/k%2Fey%20SEGSECRET", 404, "unknown key k/ey SEGSECRET", []string{"SEGSECRET", "k/ey"}, "unknown key"},
		{"webhook JSON-escaped path", "webhook+{srv}/hooks/team7/JSONSECRET1", 404, `{"error":"no route \/hooks\/team7\/JSONSECRET1"}`, []string{"JSONSECRET1", "team7"}, "no route"},
		{"webhook signing secret", "webhook+{srv}/in#secret=SIGNSECRET5", 401, "secret SIGNSECRET5 is not ours", []string{"SIGNSECRET5"}, "is not ours"},
		{"slack secret", "slack+{srv}/services/TSLACK01/BSLACK02/SLACKSECRETxyz", 404, "no hook SLACKSECRETxyz here", []string{"SLACKSECRETxyz"}, "404 no hook"},
		{"slack team and bot", "slack+{srv}/services/TSLACK01/BSLACK02/SLACKSECRETxyz", 403, "team TSLACK01 has no hook BSLACK02", []string{"TSLACK01", "BSLACK02"}, "has no hook"},
		{"pagerduty routing key", "pagerduty://" + routingKey, 400, `{"status":"invalid event","message":"routing key ` + routingKey + ` is disabled"}`, []string{routingKey}, "is disabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.answer))
			}))
			defer ts.Close()
			o := opener(t, notify.Options{PagerDutyURL: ts.URL + "/v2/enqueue"})
			d := open(t, o, strings.Replace(tc.url, "{srv}", ts.URL, 1))
			err := d.Send(t.Context(), sample())
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, alert.ErrRejected) != (tc.status < 500) {
				t.Errorf("%v: rejected %v for %d", err, errors.Is(err, alert.ErrRejected), tc.status)
			}
			noSecret(t, err.Error(), tc.secrets...)
			if !strings.Contains(err.Error(), tc.keep) || !strings.Contains(err.Error(), "***") {
				t.Errorf("%v: want %q kept and the secret as ***", err, tc.keep)
			}
		})
	}
}
