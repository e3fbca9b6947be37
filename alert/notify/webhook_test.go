package notify_test

import (
	"crypto/hmac"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/alert"
	"github.com/drainpipe/drainpipe/alert/notify"
)

// webhookBody is the body the README documents.
type webhookBody struct {
	Version int `json:"version"`
	alert.Notification
}

func TestWebhookSigned(t *testing.T) {
	secret := "wh-S3KR1T"
	now := time.Date(2026, 5, 1, 10, 2, 0, 0, time.UTC)
	var got []webhookBody
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := body(r)
		ts := r.Header.Get(notify.HeaderTimestamp)
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || time.Unix(sec, 0).Sub(now).Abs() > 5*time.Minute {
			http.Error(w, "stale or missing timestamp", http.StatusUnauthorized)
			return
		}
		want := notify.Sign([]byte(secret), ts, raw)
		if !hmac.Equal([]byte(r.Header.Get(notify.HeaderSignature)), []byte(want)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/hooks/T0K3N" || r.URL.RawQuery != "team=ops" || r.URL.Fragment != "" {
			http.Error(w, "wrong URL "+r.URL.String(), http.StatusNotFound)
			return
		}
		var b webhookBody
		if err := json.Unmarshal(raw, &b); err != nil || b.Version != 1 || b.ID != r.Header.Get(notify.HeaderID) || b.Event != r.Header.Get(notify.HeaderEvent) {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		got = append(got, b)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer ts.Close()
	o := opener(t, notify.Options{Now: func() time.Time { return now }})
	d := open(t, o, "webhook+"+ts.URL+"/hooks/T0K3N?team=ops#secret="+secret)
	noSecret(t, d.String(), secret, "T0K3N", "team=ops")
	n := sample()
	if err := d.Send(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	if err := d.Send(t.Context(), resolved(n)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].DedupeKey != n.DedupeKey || len(got[0].Samples) != 5 || got[0].Samples[2].Message != "héllo wörld, 日本語" ||
		got[1].Event != alert.EventResolved || got[1].Reason != "recovered" || !got[0].WindowEnd.Equal(n.WindowEnd) {
		t.Errorf("received %+v", got)
	}
	// A forged request (another secret) is refused by the receiver.
	forged := open(t, o, "webhook+"+ts.URL+"/hooks/T0K3N?team=ops#secret=guess")
	if err := forged.Send(t.Context(), n); !errors.Is(err, alert.ErrRejected) {
		t.Errorf("forged: %v", err)
	}
}

func TestWebhookUnsignedAndRedirect(t *testing.T) {
	var sig string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		sig = r.Header.Get(notify.HeaderSignature)
	}))
	defer ts.Close()
	o := opener(t, notify.Options{})
	if err := open(t, o, "webhook+"+ts.URL+"/in").Send(t.Context(), sample()); err != nil || sig != "" {
		t.Errorf("unsigned: %v, signature %q", err, sig)
	}
	err := open(t, o, "webhook+"+ts.URL+"/moved").Send(t.Context(), sample())
	if !errors.Is(err, alert.ErrRejected) {
		t.Errorf("redirect: %v", err)
	}
}

func TestSignKnownAnswer(t *testing.T) {
	// echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
	got := notify.Sign([]byte("secret"), "1700000000", []byte(`{"a":1}`))
	if got != "sha256=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686" {
		t.Errorf("signature %s", got)
	}
}
